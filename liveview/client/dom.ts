// The page's elements exist before its script runs (a module script is deferred): no null checks.
export const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

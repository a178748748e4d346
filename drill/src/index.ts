// What the local stack's drills (stack/src/drill-cli.ts) share with the compose one-shot (main.ts).
export * from './probe.js';
export * from './run.js';
export * from './scenario.js';
export * from './verdict.js';

import type { PageProbe } from './probe.js';

/** What every scenario gets besides its own target: the probe that watches the page, and the timeline. */
export interface DrillContext {
  readonly probe: PageProbe;
  /** A line of the timeline, stamped now. */
  mark(event: string): void;
}

/** The part a scenario breaks, chosen before the fault so that the fault's moment is exact. */
export interface Victim {
  readonly target: string;
  /** How long the fault is held before `heal` (0: heal at once, e.g. a restart policy). */
  readonly holdMs: number;
  inject(): Promise<void>;
  heal(): Promise<void>;
}

/** A drill on some system `T` (the local stack, a compose project). */
export interface Scenario<T> {
  readonly name: string;
  readonly what: string;
  /** Needs the three-node broker cluster. */
  readonly cluster?: boolean;
  choose(context: DrillContext & { readonly system: T }): Promise<Victim>;
}

/** The scenario of that name, or an error listing the known ones. */
export function scenarioNamed<T>(scenarios: readonly Scenario<T>[], name: string): Scenario<T> {
  const scenario = scenarios.find((candidate) => candidate.name === name);
  if (!scenario) {
    throw new Error(`unknown drill "${name}"; one of: ${scenarios.map((candidate) => candidate.name).join(', ')}, all`);
  }
  return scenario;
}

/** The usage lines: each scenario's name and what it does. */
export function describeScenarios<T>(scenarios: readonly Scenario<T>[]): string {
  return scenarios.map((scenario) => `  ${scenario.name.padEnd(20)} ${scenario.what}`).join('\n');
}

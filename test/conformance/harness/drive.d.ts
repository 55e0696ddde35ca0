// Types for drive.js (the parent side of the conformance harness).
export interface ScenarioInfo {
  name: string;
  items: Array<number | string>;
  isolated: boolean;
  flags: string[];
  skip: string | null;
  expected: unknown;
  reason: string | null;
  timeout: number | null;
  excerptDiffers: boolean;
}

export interface Outcome {
  log?: unknown[] | null;
  result?: unknown;
  threw?: unknown;
  debugStack?: string;
  harnessError?: string;
  exitCode?: number | null;
  exitEventCode?: number;
  signal?: string | null;
  stderr?: string;
}

export interface RunOptions {
  implA?: string;
  implB?: string;
  includeSkipped?: boolean;
  concurrency?: number;
}

export const SCENARIO_DIR: string;
export function scenarioFile(base: string): string;
export function listScenarios(file: string): ScenarioInfo[];
export function runBatch(file: string, impl: string, names: string[], timeout?: number): Promise<Record<string, Outcome>>;
export function runIsolated(file: string, impl: string, scenario: ScenarioInfo): Promise<Outcome>;
export function runFile(
  file: string,
  list: ScenarioInfo[],
  options?: RunOptions,
): Promise<Record<string, { a?: Outcome; b?: Outcome }>>;
export function comparable(outcome: Outcome | undefined, scenario?: ScenarioInfo): Omit<Outcome, 'debugStack'> | undefined;
export function nodeProblem(outcome: Outcome | undefined, scenario: ScenarioInfo): string | null;

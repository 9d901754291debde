import type { ChildProcesses } from '../child-processes.js';
import type { MeasureContext } from '../measure.js';
import type { FailoverRow, GrowthRow, RunRow } from '../results.js';

/** What every scenario gets from the runner, and where it puts its figures. */
export interface ScenarioContext extends MeasureContext {
  readonly children: ChildProcesses;
  /** Temporary folder for generated configs, logs and pid files. */
  readonly tmp: string;
  readonly runs: RunRow[];
  readonly failover: FailoverRow[];
  readonly growth: GrowthRow[];
  readonly notes: string[];
  /** Generated peer configs, copied to bench/out for the record. */
  readonly configFiles: string[];
}

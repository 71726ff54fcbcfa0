/** One piece of work for `runCapped`, with the lane (say, a webhook) it counts against. */
export interface LaneTask<T> {
  lane: string;
  run: () => Promise<T>;
}

export interface CappedRun<T> {
  /** Results of the tasks that ran, by their index in the input. */
  results: Map<number, T>;
  /** Indexes of the tasks not started before the deadline, in input order. */
  unstarted: number[];
}

/**
 * Runs tasks at most `total` at once and at most `perLane` at once per lane, in input
 * order except that a task waiting for its lane never holds up other lanes' tasks. No
 * task starts after `deadline` (ms since the epoch); those are returned as unstarted.
 * Tasks must not throw: a rejection rejects the whole run.
 */
export function runCapped<T>(
  tasks: LaneTask<T>[],
  { total, perLane, deadline = Number.POSITIVE_INFINITY }: { total: number; perLane: number; deadline?: number },
): Promise<CappedRun<T>> {
  const results = new Map<number, T>();
  const waiting = tasks.map((_, index) => index);
  const busy = new Map<string, number>();
  let running = 0;
  return new Promise((resolve, reject) => {
    const finish = () => resolve({ results, unstarted: waiting });
    const pump = () => {
      if (Date.now() >= deadline) {
        if (running === 0) finish();
        return;
      }
      for (let i = 0; i < waiting.length && running < total; ) {
        const index = waiting[i]!;
        const task = tasks[index]!;
        if ((busy.get(task.lane) ?? 0) >= perLane) {
          i += 1;
          continue;
        }
        waiting.splice(i, 1);
        running += 1;
        busy.set(task.lane, (busy.get(task.lane) ?? 0) + 1);
        task.run().then((result) => {
          results.set(index, result);
          running -= 1;
          busy.set(task.lane, (busy.get(task.lane) ?? 1) - 1);
          pump();
        }, reject);
      }
      if (running === 0 && (waiting.length === 0 || Date.now() >= deadline)) finish();
    };
    pump();
  });
}

// Jest side of the differential conformance suite: one call per scenario
// file. Every scenario runs in child processes under two implementations
// (default: node:worker_threads as the reference, ringport under test) and
// the two outcomes must be deeply equal.
//
// Environment:
//   CONFORMANCE_IMPL_A=node        the reference implementation
//   CONFORMANCE_IMPL_B=ringport    the implementation under test
//                                  (CONFORMANCE_IMPL_B=node: self-check of the harness)
//   CONFORMANCE_RUN_SKIPPED=1      also run scenarios marked skip
import * as drive from './drive';

export function conformanceSuite(base: string): void {
  const file = drive.scenarioFile(base);
  const implA = process.env.CONFORMANCE_IMPL_A || 'node';
  const implB = process.env.CONFORMANCE_IMPL_B || 'ringport';
  const runSkipped = process.env.CONFORMANCE_RUN_SKIPPED === '1';
  const list = drive.listScenarios(file);
  let results: Record<string, { a?: drive.Outcome; b?: drive.Outcome }> = {};

  beforeAll(async () => {
    results = await drive.runFile(file, list, { implA, implB, includeSkipped: runSkipped });
  }, 115_000);

  describe(`${base}: ${implB} vs ${implA}`, () => {
    for (const s of list) {
      const title = `${s.name} [items ${s.items.join(', ')}]`;
      if (s.skip && !runSkipped) {
        test.skip(`${title} (skipped: ${s.skip})`, () => undefined);
        continue;
      }
      if (s.expected !== null) {
        // Not differential (Node itself crashes or is nondeterministic here):
        // the implementation under test must show the documented outcome.
        const run = implB === 'node' ? test.skip : test;
        run(`${title} (expected outcome, not differential: ${s.reason})`, () => {
          const b = results[s.name]?.b;
          expect(b?.harnessError).toBeUndefined();
          if (s.isolated) expect({ signal: b?.signal, exitCode: b?.exitCode }).toEqual({ signal: null, exitCode: 0 });
          expect(b?.log).toEqual(s.expected);
        });
        continue;
      }
      test(title, () => {
        const r = results[s.name] || {};
        const problem = drive.nodeProblem(r.a, s);
        if (problem) throw new Error(`the ${implA} reference run is not usable: ${problem}`);
        expect(drive.comparable(r.b, s)).toEqual(drive.comparable(r.a, s));
      });
    }
  });
}

/**
 * Sums up the V8 CPU profiles a pipeline run wrote (`BENCH_CPU_PROFILE_DIR`): per service, the
 * sampled time, where it went by origin (our code, each package, Node's internals, the garbage
 * collector) and the functions with the most self time. Markdown on stdout.
 *
 *   npm run profile -- <dir>
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from: our workspace, a package, Node itself, or V8's own entries. */
export function origin(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const workspace = /\/(common|publisher|consumer|liveview|stack)\/dist\//.exec(url);
  return workspace ? `@stockmarket/${workspace[1]}` : url;
}

/** Self time per node id in µs, from the samples and their time deltas. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    times.set(id, (times.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return times;
}

export function summarize(profile: CpuProfile, top = 15): string[] {
  const times = selfTimes(profile);
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const us = times.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const from = origin(url, functionName);
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + us);
    if (from !== '(idle)') busy += us;
    const file = url
      ? `${url.replace(/^.*\/((?:common|publisher|consumer|liveview|stack)\/dist\/|node_modules\/)/, '$1')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${file}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const wall = profile.endTime - profile.startTime;
  const share = (us: number) => `${((us / busy) * 100).toFixed(1)} %`;
  const rows = (map: Map<string, number>, skip: string[]) =>
    [...map]
      .filter(([key]) => !skip.includes(key))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => `| ${key.replaceAll('|', '\\|')} | ${(us / 1000).toFixed(0)} | ${share(us)} |`);
  return [
    `Busy ${(busy / 1e6).toFixed(1)} s of ${(wall / 1e6).toFixed(1)} s sampled (idle left out).`,
    '',
    '| origin | self ms | of busy |',
    '| --- | ---: | ---: |',
    ...rows(byOrigin, ['(idle)']),
    '',
    '| function | self ms | of busy |',
    '| --- | ---: | ---: |',
    ...rows(byFunction, ['(idle)']),
  ];
}

function profilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return profilesUnder(path);
    return name.endsWith('.cpuprofile') ? [path] : [];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npm run profile -- <BENCH_CPU_PROFILE_DIR of a pipeline run>');
    process.exit(2);
  }
  for (const path of profilesUnder(dir).sort()) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    console.log(`## ${relative(dir, path)}\n\n${summarize(profile).join('\n')}\n`);
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rabbitmqRoot, repoRoot, runBase } from './paths.js';

/** How to start one of RabbitMQ's programs (broker, epmd, CLI tools) so that it runs in its root. */
export interface RootCommand {
  readonly command: string;
  readonly args: string[];
}

const wrapper = join(repoRoot, 'stack', 'bin', 'rabbitmq-root-exec');

/** The `rabbitmq` user of the broker's root: the broker runs as it, so its directories belong to it. */
export function rabbitmqUser(): { uid: number; gid: number } {
  const passwd = join(rabbitmqRoot, 'etc', 'passwd');
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    throw new Error(`${passwd} is missing: run "npm run setup" (builds the trixie root with RabbitMQ 4.x)`);
  }
  const fields = text
    .split('\n')
    .find((line) => line.startsWith('rabbitmq:'))
    ?.split(':');
  if (!fields) throw new Error(`no user "rabbitmq" in ${passwd}: is rabbitmq-server installed in that root?`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * `program` (a path inside the root, or a name found on the env's PATH there) as the root's
 * `rabbitmq` user, through stack/bin/rabbitmq-root-exec: a private mount namespace with the run
 * directories and the repository mounted at their own paths, then chroot. The wrapper execs, so
 * the PID is the program's. Needs root (mount namespace, chroot).
 */
export function inRabbitmqRoot(program: string, args: readonly string[]): RootCommand {
  if (process.getuid?.() !== 0)
    throw new Error(`RabbitMQ runs chrooted in ${rabbitmqRoot}: the tests and the stack need root`);
  const { uid, gid } = rabbitmqUser();
  return { command: wrapper, args: [rabbitmqRoot, `${uid}:${gid}`, runBase, repoRoot, '--', program, ...args] };
}

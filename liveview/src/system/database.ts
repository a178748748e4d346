import type { Db } from 'mongodb';
import type { DatabaseMemberView, MemberState } from '../../shared/system-message.js';

interface ReplSetMember {
  name: string;
  stateStr: string;
  health: number;
  optimeDate?: Date;
}

const STATES: readonly MemberState[] = ['PRIMARY', 'SECONDARY', 'ARBITER', 'RECOVERING', 'STARTUP'];

/** Members from `replSetGetStatus` (pure): state, and seconds behind the primary for secondaries. */
export function membersFromStatus(members: readonly ReplSetMember[]): DatabaseMemberView[] {
  const primary = members.find((member) => member.stateStr === 'PRIMARY' && member.health === 1);
  return members.map((member) => {
    const state: MemberState =
      member.health !== 1 ? 'down' : (STATES.find((known) => known === member.stateStr) ?? 'unknown');
    const view: DatabaseMemberView = { name: member.name, state };
    if (state === 'SECONDARY' && primary?.optimeDate && member.optimeDate) {
      view.lagSeconds = Math.max(0, (primary.optimeDate.getTime() - member.optimeDate.getTime()) / 1000);
    }
    return view;
  });
}

/**
 * The replica set as the liveview user may see it (`clusterMonitor`): `replSetGetStatus` where
 * it is answered; otherwise `hello` alone, which FerretDB (the local stand-in) answers for its
 * one node. An unreachable database yields every known member as down.
 */
export async function readMembers(
  db: Db,
  timeoutMs: number,
  known: readonly DatabaseMemberView[],
): Promise<DatabaseMemberView[]> {
  const admin = db.admin();
  try {
    const hello = await admin.command({ hello: 1 }, { timeoutMS: timeoutMs });
    const status = await admin.command({ replSetGetStatus: 1 }, { timeoutMS: timeoutMs }).catch(() => undefined);
    if (status) return membersFromStatus(status.members as ReplSetMember[]);
    // FerretDB answers hello (even with a set name) but has no replica set: one member, standing in.
    const build = await admin.command({ buildInfo: 1 }, { timeoutMS: timeoutMs });
    if (build.ferretdbVersion !== undefined || build.ferretdb !== undefined) {
      return [{ name: 'FerretDB (stand-in)', state: hello.isWritablePrimary ? 'PRIMARY' : 'unknown', standIn: true }];
    }
    // A replica set without the clusterMonitor grant: the members hello lists, the primary it names.
    const hosts = (hello.hosts as string[] | undefined) ?? [];
    return hosts.map((name) => ({
      name,
      state: name === hello.primary || (name === hello.me && hello.isWritablePrimary) ? 'PRIMARY' : 'unknown',
    }));
  } catch {
    return known.map(({ lagSeconds: _lag, ...member }) => ({ ...member, state: 'down' as const }));
  }
}

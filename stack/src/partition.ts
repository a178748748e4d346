// Network partitions between processes on loopback, made with the kernel's packet filter: a
// chain of our own (named after this process) jumped to from OUTPUT for loopback traffic only,
// with DROP rules on the addresses and ports of the processes to separate. Every loopback packet
// passes OUTPUT once, so dropping there cuts both directions. Needs root and iptables
// (scripts/setup.sh installs it); `heal` removes everything and is safe to call twice.
import { execFileSync } from 'node:child_process';
import type { RabbitMqServer } from './rabbitmq.js';

let chains = 0;

function iptables(...args: string[]): void {
  execFileSync('iptables', ['-w', '5', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class Partition {
  private active = true;

  private constructor(private readonly chain: string) {}

  private static open(): Partition {
    const chain = `stockmarket-${process.pid}-${chains++}`;
    iptables('-N', chain);
    iptables('-I', 'OUTPUT', '-o', 'lo', '-j', chain);
    return new Partition(chain);
  }

  /**
   * Cuts the Erlang distribution links between `node` and each of `others` (the connections it
   * opens come from its own address to their distribution ports, and theirs from their addresses
   * to its port). AMQP clients still reach every node.
   */
  static isolateBroker(node: RabbitMqServer, others: readonly RabbitMqServer[]): Partition {
    const partition = Partition.open();
    try {
      for (const other of others) {
        for (const [from, to] of [
          [node, other],
          [other, node],
        ] as const) {
          partition.drop('-s', from.address, '--dport', String(to.distPort));
          partition.drop('-d', from.address, '--sport', String(to.distPort));
        }
      }
    } catch (error) {
      partition.heal();
      throw error;
    }
    return partition;
  }

  /**
   * Cuts every TCP connection to a listening port, new ones included (a broker node's AMQP port:
   * its clients lose it, the node itself stays in its cluster).
   */
  static isolateListener(port: number): Partition {
    const partition = Partition.open();
    try {
      partition.drop('--dport', String(port));
      partition.drop('--sport', String(port));
    } catch (error) {
      partition.heal();
      throw error;
    }
    return partition;
  }

  private drop(...match: string[]): void {
    iptables('-A', this.chain, '-p', 'tcp', ...match, '-j', 'DROP');
  }

  heal(): void {
    if (!this.active) return;
    this.active = false;
    iptables('-D', 'OUTPUT', '-o', 'lo', '-j', this.chain);
    iptables('-F', this.chain);
    iptables('-X', this.chain);
  }
}

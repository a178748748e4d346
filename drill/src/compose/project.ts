import { hostname } from 'node:os';
import { PassThrough } from 'node:stream';
import { waitFor } from '@stockmarket/common';
import Docker from 'dockerode';

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';

/** A container of the project, as the engine lists it. */
export interface ProjectContainer {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly running: boolean;
  /** Its address on each of its networks (network name: IPv4). */
  readonly addresses: Readonly<Record<string, string>>;
}

/**
 * The Docker Engine API (through the mounted socket), limited to one compose project: every
 * container is found by the project's label, and every action re-checks that label first, so a
 * drill can never touch a container of another project or one started by hand.
 */
export class ComposeProject {
  private constructor(
    private readonly docker: Docker,
    readonly name: string,
  ) {}

  /** The named project, or the one the drill's own container belongs to. */
  static async connect(name?: string, docker = new Docker()): Promise<ComposeProject> {
    if (name) return new ComposeProject(docker, name);
    // A container's host name is its id's first 12 characters.
    const self = await docker
      .getContainer(hostname())
      .inspect()
      .catch((error: Error) => {
        throw new Error(
          `cannot find the drill's own container (${hostname()}) to learn its compose project: ${error.message}; set DRILL_COMPOSE_PROJECT`,
        );
      });
    const project = self.Config.Labels?.[PROJECT_LABEL];
    if (!project) throw new Error(`container ${hostname()} has no ${PROJECT_LABEL} label; set DRILL_COMPOSE_PROJECT`);
    return new ComposeProject(docker, project);
  }

  /** The project's containers, of one service or all, running or not. */
  async containers(service?: string): Promise<ProjectContainer[]> {
    const labels = [`${PROJECT_LABEL}=${this.name}`, ...(service ? [`${SERVICE_LABEL}=${service}`] : [])];
    const listed = await this.docker.listContainers({ all: true, filters: { label: labels } });
    return listed
      .map((container) => ({
        id: container.Id,
        name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
        service: container.Labels[SERVICE_LABEL] ?? '',
        running: container.State === 'running',
        addresses: Object.fromEntries(
          Object.entries(container.NetworkSettings?.Networks ?? {}).map(([network, settings]) => [
            network,
            settings.IPAddress,
          ]),
        ),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The one running container of a service (a broker node, NGINX). */
  async running(service: string): Promise<ProjectContainer> {
    const found = (await this.containers(service)).filter((container) => container.running);
    if (found.length === 0) throw new Error(`no running container of service ${service} in project ${this.name}`);
    return found[0] as ProjectContainer;
  }

  /** The container, after checking that it belongs to this project. */
  private async mine(container: ProjectContainer): Promise<Docker.Container> {
    const handle = this.docker.getContainer(container.id);
    const labels = (await handle.inspect()).Config.Labels ?? {};
    if (labels[PROJECT_LABEL] !== this.name) {
      throw new Error(`container ${container.name} is not part of compose project ${this.name}: left alone`);
    }
    return handle;
  }

  async kill(container: ProjectContainer): Promise<void> {
    await (await this.mine(container)).kill({ signal: 'SIGKILL' });
  }

  async stop(container: ProjectContainer, graceSeconds = 30): Promise<void> {
    await (await this.mine(container)).stop({ t: graceSeconds });
  }

  /** Starts it unless it runs (a restart policy may have been quicker), then waits until it is healthy. */
  async start(container: ProjectContainer): Promise<void> {
    const handle = await this.mine(container);
    if (!(await handle.inspect()).State.Running) await handle.start();
    await this.healthy(container);
  }

  /**
   * Waits until the container runs and its health check (where it has one) passes: a healed
   * fault is one the container is back from, and the next drill starts on a whole system.
   */
  async healthy(container: ProjectContainer, timeoutMs = 180_000): Promise<void> {
    const handle = await this.mine(container);
    await waitFor(
      `${container.name} running and healthy`,
      async () => {
        const { State } = await handle.inspect();
        return State.Running && !State.Paused && (State.Health === undefined || State.Health.Status === 'healthy');
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /**
   * `docker pause`. The cgroup freezer can fail to stop a process busy in the kernel (a broker
   * writing to disk): runc then thaws the container again and the engine answers `unable to
   * freeze` (the compose suite's CI run of 7 Dec, 23:00). Tried up to five times, a second apart.
   */
  async pause(container: ProjectContainer): Promise<void> {
    const handle = await this.mine(container);
    for (let attempt = 1; ; attempt++) {
      try {
        await handle.pause();
        return;
      } catch (error) {
        if (!/unable to freeze/.test((error as Error).message) || attempt >= 5) throw error;
        if ((await handle.inspect()).State.Paused) return;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async unpause(container: ProjectContainer): Promise<void> {
    await (await this.mine(container)).unpause();
    await this.healthy(container);
  }

  /**
   * Cuts the container off every network it is on; the returned function puts it back with the
   * same aliases (its service name among them, which the other containers resolve).
   */
  async disconnect(container: ProjectContainer): Promise<() => Promise<void>> {
    const handle = await this.mine(container);
    const networks = (await handle.inspect()).NetworkSettings.Networks;
    const saved = Object.entries(networks).map(([network, settings]) => ({
      network,
      aliases: ((settings.Aliases ?? []) as string[]).filter((alias) => !container.id.startsWith(alias)),
    }));
    for (const { network } of saved) {
      await this.docker.getNetwork(network).disconnect({ Container: container.id, Force: true });
    }
    return async () => {
      for (const { network, aliases } of saved) {
        await this.docker
          .getNetwork(network)
          .connect({ Container: container.id, EndpointConfig: { Aliases: aliases } });
      }
    };
  }

  /** Runs a command in the container; its standard output, or an error with both streams. */
  async exec(container: ProjectContainer, command: readonly string[]): Promise<string> {
    const handle = await this.mine(container);
    const exec = await handle.exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const out = new PassThrough().on('data', (chunk: Buffer) => stdout.push(chunk));
    const err = new PassThrough().on('data', (chunk: Buffer) => stderr.push(chunk));
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.demuxStream(stream, out, err);
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const { ExitCode } = await exec.inspect();
    const output = Buffer.concat(stdout).toString();
    if (ExitCode !== 0) {
      throw new Error(
        `${command.join(' ')} in ${container.name} exited ${ExitCode}: ${Buffer.concat(stderr).toString()}${output}`,
      );
    }
    return output;
  }
}

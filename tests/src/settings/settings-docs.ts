// What README's variable tables, .env.example and deploy/settings.json must say, generated from
// the services' schemas (their defaults and descriptions), from .env (compose's own choices) and
// from docker-compose.yml (the names each service gets). `npm run settings` writes the files;
// settings-docs.test.ts fails when one is out of date.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingDefault, settingDocs } from '@stockmarket/common';
import { consumerConfigShape } from '@stockmarket/consumer/config.js';
import { drillConfigShape } from '@stockmarket/drill/config.js';
import { liveviewConfigShape } from '@stockmarket/liveview/config.js';
import { publisherConfigShape } from '@stockmarket/publisher/config.js';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export const SETTINGS_COMMAND = 'npm run settings';

export type ServiceName = 'publisher' | 'consumer' | 'liveview' | 'drill';
const services: Record<ServiceName, z.ZodRawShape> = {
  publisher: publisherConfigShape,
  consumer: consumerConfigShape,
  liveview: liveviewConfigShape,
  // The one-shot of the `drill` profile (docs/drills.md).
  drill: drillConfigShape,
};
export const serviceNames = Object.keys(services) as ServiceName[];

export interface Setting {
  readonly name: string;
  /** The default as an environment value, when it has one. */
  readonly default: string | undefined;
  /** The default as the docs show it. */
  readonly shown: string;
  readonly description: string;
}

export function settingsOf(service: ServiceName): Setting[] {
  return Object.entries(services[service]).map(([name, schema]) => {
    const doc = settingDocs.get(schema);
    if (!doc) throw new Error(`${service}: ${name} has no description (wrap its schema in setting())`);
    const value = settingDefault(schema);
    const shown = doc.shownDefault ?? (value === undefined ? 'unset' : `\`${value}\``);
    return { name, default: doc.shownDefault === undefined ? value : undefined, shown, description: doc.description };
  });
}

/**
 * The variables of docker compose itself (not of a service), in .env's order: .env holds their
 * values, these their meaning.
 */
export const composeVariables: readonly {
  readonly section?: string;
  readonly name: string;
  readonly description: string;
}[] = [
  {
    section: 'Ports on the host',
    name: 'NGINX_BIND',
    description:
      'Host address NGINX publishes the page on: 127.0.0.1 (this machine only; the default) or 0.0.0.0 (every interface: other machines can reach the page; see docs/deployment.md)',
  },
  {
    name: 'NGINX_PORT',
    description: 'Host port of the page, API and socket.io (NGINX is the only service that publishes one)',
  },
  {
    name: 'RABBITMQ_MANAGEMENT_PORT',
    description: 'Host port (127.0.0.1 only) of the RabbitMQ management UI (user admin)',
  },
  {
    name: 'PROMETHEUS_PORT',
    description: 'Host port (127.0.0.1 only) of Prometheus, with `docker compose --profile monitoring up`',
  },
  {
    section: 'MongoDB (replica set rs0: mongo1, mongo2, mongo3; users live in the admin database)',
    name: 'MONGO_ROOT_USERNAME',
    description:
      'Administrator (role root), created on mongo1\'s first start only (its password is generated: README, "Passwords")',
  },
  {
    section: 'Replicas started by `docker compose up`',
    name: 'CONSUMER_REPLICAS',
    description:
      'Consumer containers; with one lease each (`CONSUMER_MAX_LEASES`) they spread the companies and the rest stand by',
  },
  { name: 'LIVEVIEW_REPLICAS', description: 'Liveview containers behind NGINX' },
  {
    section: 'The drill one-shot (`--profile drill`)',
    name: 'DOCKER_SOCKET',
    description:
      "The Docker engine's socket on the host, mounted into the drill (root on the host: docs/drills.md); another path for an engine listening elsewhere",
  },
];

/** `KEY=value` lines of an env file, in order (comments and blank lines skipped). */
export function parseDotenv(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

/** The names each Node service of the compose file takes from .env (environment entries without a value). */
export function composePassedNames(composeText: string): Record<ServiceName, string[]> {
  const compose = parseYaml(composeText, { merge: true }) as {
    services: Record<string, { environment?: Record<string, unknown> }>;
  };
  const names = {} as Record<ServiceName, string[]>;
  for (const service of serviceNames) {
    const environment = compose.services[service]?.environment ?? {};
    names[service] = Object.entries(environment)
      .filter(([, value]) => value === null)
      .map(([name]) => name);
  }
  return names;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

function table(rows: [string, string, string][]): string {
  return [
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows.map(([name, value, meaning]) => `| ${cell(name)} | ${cell(value)} | ${cell(meaning)} |`),
  ].join('\n');
}

/** README's generated blocks: one table per service, and compose's own variables. */
export function readmeBlocks(dotenv: readonly [string, string][]): Record<string, string> {
  const values = new Map(dotenv);
  const blocks: Record<string, string> = {
    compose: table(
      composeVariables.map(({ name, description }) => [`\`${name}\``, `\`${values.get(name) ?? ''}\``, description]),
    ),
  };
  for (const service of serviceNames) {
    blocks[service] = table(
      settingsOf(service).map((s) => {
        const inCompose = values.get(s.name);
        const meaning = inCompose === undefined ? s.description : `${s.description} (compose: \`${inCompose}\`)`;
        return [`\`${s.name}\``, s.shown, meaning];
      }),
    );
  }
  return blocks;
}

const marker = (name: string) => [
  `<!-- settings:${name} (generated: ${SETTINGS_COMMAND}) -->`,
  `<!-- /settings:${name} -->`,
];

/** README with every generated block replaced; throws when a block's markers are missing. */
export function renderReadme(readme: string, blocks: Record<string, string>): string {
  let text = readme;
  for (const [name, body] of Object.entries(blocks)) {
    const [open, close] = marker(name) as [string, string];
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md: markers ${open} ... ${close} not found`);
    text = `${text.slice(0, start + open.length)}\n\n${body}\n\n${text.slice(end)}`;
  }
  return text;
}

/** A Markdown table with its padding removed, so that a formatter's alignment does not count. */
export function normalizeTables(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((part) => part.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    )
    .join('\n');
}

function wrap(text: string, width = 98): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(`# ${line}`);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(`# ${line}`);
  return lines;
}

/**
 * .env.example: compose's own variables with .env's values, then every service setting compose
 * passes by name, set when .env sets it, else commented out with its default.
 */
export function renderEnvExample(dotenv: readonly [string, string][], passed: Record<ServiceName, string[]>): string {
  const values = new Map(dotenv);
  const out = [
    `# GENERATED by \`${SETTINGS_COMMAND}\` from .env, docker-compose.yml and the services' schemas.`,
    '# docker compose settings: copy to .env and change what you need (docker compose reads .env).',
    '# The committed .env holds the same DEVELOPMENT DEFAULTS: every password below is public. Change',
    '# them before the stack is reachable by anyone else (see docs/deployment.md, "Passwords").',
    '# Passwords go into connection URLs: use letters, digits and - _ . ~ only.',
  ];
  for (const { section, name, description } of composeVariables) {
    if (section) out.push('', `# --- ${section} ---`);
    out.push(...wrap(description), `${name}=${values.get(name) ?? ''}`);
  }
  out.push(
    '',
    '# The services\' settings (README.md, "Configuration"). Compose passes each by name: .env holds',
    "# only values that differ from the service's default, unset ones take the default.",
  );
  const seen = new Set<string>();
  for (const service of serviceNames) {
    const settings = new Map(settingsOf(service).map((s) => [s.name, s]));
    const fresh = passed[service].filter((name) => !seen.has(name));
    if (fresh.length === 0) continue;
    out.push('', `# --- ${service}${service === 'publisher' ? ' (and what the others share with it)' : ''} ---`);
    for (const name of fresh) {
      seen.add(name);
      const s = settings.get(name);
      if (!s) continue; // compose-check names it: not a variable of the service
      const users = serviceNames.filter((other) => passed[other].includes(name));
      const sentence = /[.…]$/.test(s.description) ? s.description : `${s.description}.`;
      const where = users.length > 1 ? ` Used by ${users.join(', ')}.` : '';
      out.push(...wrap(`${sentence}${where} Default: ${s.shown.replaceAll('`', '')}.`));
      const value = values.get(name);
      out.push(value === undefined ? `# ${name}=${s.default ?? ''}` : `${name}=${value}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** deploy/settings.json: every variable of each service with its default (null: none), for compose-check and helm-check. */
export function renderSettingsJson(): string {
  const doc: Record<string, unknown> = {
    generatedBy: SETTINGS_COMMAND,
    about:
      "Every variable each service's schema knows, with its default (null: unset); read by deploy/compose-check, deploy/helm-check and the Helm chart",
    services: Object.fromEntries(
      serviceNames.map((service) => [
        service,
        Object.fromEntries(settingsOf(service).map((s) => [s.name, s.default ?? null])),
      ]),
    ),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Service settings in .env that only repeat the default (the default lives in the schema) or
 * that no service compose runs knows.
 */
export function dotenvProblems(dotenv: readonly [string, string][], passed: Record<ServiceName, string[]>): string[] {
  const composeOwn = new Set(composeVariables.map((v) => v.name));
  const problems: string[] = [];
  for (const [name, value] of dotenv) {
    if (composeOwn.has(name)) continue;
    const users = serviceNames.filter((service) => passed[service].includes(name));
    if (users.length === 0) {
      problems.push(`.env: ${name} is neither compose's own variable nor one docker-compose.yml passes to a service`);
      continue;
    }
    for (const service of users) {
      const s = settingsOf(service).find((setting) => setting.name === name);
      if (s?.default !== undefined && s.default === value) {
        problems.push(`.env: ${name}=${value} repeats ${service}'s default: remove it from .env`);
      }
    }
  }
  return problems;
}

export interface GeneratedFile {
  readonly path: string;
  readonly expected: string;
  /** How to compare: Markdown tables regardless of their padding. */
  readonly compare: (text: string) => string;
}

/** Every generated file under `root`, as it should read. */
export function generatedFiles(root: string): GeneratedFile[] {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const dotenv = parseDotenv(read('.env'));
  const passed = composePassedNames(read('docker-compose.yml'));
  const same = (text: string) => text;
  return [
    {
      path: 'README.md',
      expected: renderReadme(read('README.md'), readmeBlocks(dotenv)),
      compare: normalizeTables,
    },
    { path: '.env.example', expected: renderEnvExample(dotenv, passed), compare: same },
    { path: 'deploy/settings.json', expected: renderSettingsJson(), compare: same },
  ];
}

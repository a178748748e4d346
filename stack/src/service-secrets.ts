import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { urlCredentials, withUrlPassword } from '@stockmarket/common';

/** The connection strings of each password a service reads from a file (common/src/secrets.ts). */
const GROUPS = [
  {
    password: 'RABBITMQ_PASSWORD',
    file: 'rabbitmq-password',
    urls: ['RABBITMQ_URL', 'RABBITMQ_URLS', 'LIVEVIEW_RABBITMQ_URLS'],
  },
  { password: 'MONGODB_PASSWORD', file: 'mongodb-password', urls: ['MONGODB_URL'] },
] as const;

/**
 * A service's environment as docker compose gives it: the passwords of its connection strings
 * moved into files in `dir` (mode 0600) named by `*_PASSWORD_FILE`, the URLs left with the user
 * only, so that no password is in the process's environment (`ps e`, /proc/<pid>/environ).
 * Connection strings of one group with different passwords (a test of a wrong one next to a
 * right one) are left as they are.
 */
export function passwordsToFiles(env: Record<string, string>, dir: string): Record<string, string> {
  const out = { ...env };
  for (const group of GROUPS) {
    if (out[group.password] !== undefined || out[`${group.password}_FILE`] !== undefined) continue;
    const lists = group.urls
      .filter((name) => (out[name] ?? '').trim() !== '')
      .map((name) => ({
        name,
        urls: name.endsWith('_URLS') ? (out[name] ?? '').split(',') : [out[name] ?? ''],
      }));
    const passwords = new Set<string>();
    for (const { urls } of lists) {
      for (const raw of urls) {
        // Not a URL (a test of a bad setting): left as it is.
        const password = urlCredentials(raw.trim())?.password;
        if (password) passwords.add(password);
      }
    }
    const [password] = passwords;
    if (passwords.size !== 1 || password === undefined) continue;
    for (const { name, urls } of lists) {
      out[name] = urls
        .map((raw) => (urlCredentials(raw.trim())?.password ? withUrlPassword(raw.trim(), '') : raw))
        .join(',');
    }
    const file = join(dir, group.file);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    out[`${group.password}_FILE`] = file;
  }
  return out;
}

/**
 * Secrets of the configs this process loaded. Commands register them right after loading a
 * config, so that runCli's error printing redacts them too, whatever a driver put into an error.
 */
const known = new Set<string>();

export function rememberSecrets(secrets: Iterable<string>): void {
  for (const s of secrets) if (typeof s === 'string' && s.length > 0) known.add(s);
}

export function rememberedSecrets(): string[] {
  return [...known];
}

import { type Env, PLATFORM_VARIABLE } from './env.js';
import { RegistryConfigError } from './errors.js';

/** The host the code runs on, as Node reports it (`process.platform`, `process.arch`). */
export interface HostPlatform {
  readonly platform: string;
  readonly arch: string;
}

/** `os[/arch[/variant]]`, as the engine's `platform` pull parameter accepts it. */
const PLATFORM = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+){0,2}$/;

/** Workspace images are published for linux/amd64; Apple silicon hosts pull that under emulation. */
const DARWIN_ARM64_PLATFORM = 'linux/amd64';

/**
 * The platform to pull workspace images for. `MOLECULE_IMAGE_PLATFORM` wins whenever it is set,
 * even to empty (`''` = the engine's default); unset, it is `linux/amd64` on a darwin/arm64 host
 * and `''` elsewhere. Throws `RegistryConfigError` for a value that is not `os[/arch[/variant]]`.
 *
 * @example imagePlatform({}, { platform: 'darwin', arch: 'arm64' }) // 'linux/amd64'
 */
export function imagePlatform(
  env: Env = process.env,
  host: HostPlatform = { platform: process.platform, arch: process.arch },
): string {
  const raw = env[PLATFORM_VARIABLE];
  if (raw === undefined) {
    return host.platform === 'darwin' && host.arch === 'arm64' ? DARWIN_ARM64_PLATFORM : '';
  }
  const value = raw.trim();
  if (value !== '' && !PLATFORM.test(value)) {
    throw new RegistryConfigError({
      variable: PLATFORM_VARIABLE,
      value: raw,
      reason: 'not of the form os[/arch[/variant]]',
      expected: 'e.g. linux/amd64 or linux/arm64/v8, or empty for the engine default',
      description: 'an image platform',
    });
  }
  return value;
}

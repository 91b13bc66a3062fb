import { ConfigError } from './config-error.js';

/**
 * Runs a package's own environment parser (`loadRegistrySettings`, `parseSignaturePolicy`)
 * inside an app's config: the package's configuration error, recognised by its guard, becomes
 * the app's `ConfigError` naming the same variable; anything else propagates.
 */
export function fromPackageConfig<T>(
  parse: () => T,
  isPackageConfigError: (error: unknown) => error is Error & { readonly variable: string },
): T {
  try {
    return parse();
  } catch (error) {
    if (!isPackageConfigError(error)) throw error;
    throw new ConfigError(error.variable, error.message, { cause: error });
  }
}

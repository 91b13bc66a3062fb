/** Every workspace runtime that has a template image, alphabetical. Frozen: others depend on the order. */
export const KNOWN_RUNTIMES = Object.freeze([
  'autogen',
  'claude-code',
  'codex',
  'crewai',
  'deepagents',
  'gemini-cli',
  'hermes',
  'langgraph',
  'openclaw',
] as const);

export type Runtime = (typeof KNOWN_RUNTIMES)[number];

/** The runtime whose image `defaultImage()` returns. */
export const DEFAULT_RUNTIME = 'langgraph' satisfies Runtime;

/** Repository name prefix of a runtime's template image: `workspace-template-<runtime>`. */
export const TEMPLATE_REPOSITORY_PREFIX = 'workspace-template-';

const known: ReadonlySet<string> = new Set(KNOWN_RUNTIMES);

/**
 * Narrows a string to a known runtime, by exact match.
 *
 * @example isKnownRuntime('codex') // true; isKnownRuntime('Codex') // false
 */
export function isKnownRuntime(value: string): value is Runtime {
  return known.has(value);
}

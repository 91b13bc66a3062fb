import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNTIME, isKnownRuntime, KNOWN_RUNTIMES } from './runtimes.js';

describe('KNOWN_RUNTIMES', () => {
  it('lists the nine runtimes in this exact alphabetical order', () => {
    expect(KNOWN_RUNTIMES).toEqual([
      'autogen',
      'claude-code',
      'codex',
      'crewai',
      'deepagents',
      'gemini-cli',
      'hermes',
      'langgraph',
      'openclaw',
    ]);
  });

  it('is sorted and has no duplicates', () => {
    expect([...KNOWN_RUNTIMES].sort()).toEqual([...KNOWN_RUNTIMES]);
    expect(new Set(KNOWN_RUNTIMES).size).toBe(KNOWN_RUNTIMES.length);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(KNOWN_RUNTIMES)).toBe(true);
    expect(() => (KNOWN_RUNTIMES as unknown as string[]).push('extra')).toThrow(TypeError);
  });

  it('contains the default runtime, langgraph', () => {
    expect(DEFAULT_RUNTIME).toBe('langgraph');
    expect(KNOWN_RUNTIMES).toContain(DEFAULT_RUNTIME);
  });
});

describe('isKnownRuntime', () => {
  it.each(KNOWN_RUNTIMES)('accepts %s', (runtime) => {
    expect(isKnownRuntime(runtime)).toBe(true);
  });

  it.each([
    '',
    'unknown',
    'Codex',
    ' codex',
    'claude_code',
    'workspace-template-codex',
    'toString',
    '__proto__',
  ])('rejects %j', (value) => {
    expect(isKnownRuntime(value)).toBe(false);
  });
});

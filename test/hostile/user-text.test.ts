import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

// Internal design documents ("seed 002") mean nothing to a user.
const INTERNAL_REFERENCE = /\bseeds? \d{3}\b|research seeds?/i;

function everyCommand(command: Command, path = 'ferry'): [string, Command][] {
  return [[path, command], ...command.commands.flatMap((sub) => everyCommand(sub, `${path} ${sub.name()}`))];
}

describe('user-facing text cites no internal documents', () => {
  it('in the --help of every command', () => {
    const commands = everyCommand(buildProgram());
    expect(commands.map(([path]) => path)).toEqual(expect.arrayContaining(['ferry pairs', 'ferry resolve', 'ferry demo generate']));
    const offending = commands.filter(([, command]) => INTERNAL_REFERENCE.test(command.helpInformation())).map(([path]) => path);
    expect(offending).toEqual([]);
  });

  it('in the READMEs and the CRDs', () => {
    const files = ['README.md', join('charts', 'ferry', 'README.md'), ...readdirSync('crds').map((f) => join('crds', f))];
    const offending = files.filter((file) => INTERNAL_REFERENCE.test(readFileSync(file, 'utf8')));
    expect(offending).toEqual([]);
  });
});

describe('where dry runs are described, they say that a dry run uses up target identity values', () => {
  // A rolled-back INSERT keeps the sequence / AUTO_INCREMENT values it drew: later real ids skip them.
  const MENTIONS_IDS = /dry run[^]*(identity|sequence|AUTO_INCREMENT)/i;

  it('in the --help of every command with --dry-run', () => {
    const withDryRun = everyCommand(buildProgram()).filter(([, command]) => command.options.some((o) => o.long === '--dry-run'));
    expect(withDryRun.map(([path]) => path)).toEqual(expect.arrayContaining(['ferry run', 'ferry resolve']));
    for (const [path, command] of withDryRun) {
      const option = command.options.find((o) => o.long === '--dry-run')!;
      expect(option.description, path).toMatch(/identity|sequence|AUTO_INCREMENT/i);
    }
  });

  it("in the README's dry run section and the SyncJob CRD", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('- **Dry run**'), readme.indexOf('- **Two-way flows**'));
    expect(section).toMatch(MENTIONS_IDS);
    expect(readFileSync(join('crds', 'ferry.dev_syncjobs.yaml'), 'utf8')).toMatch(/dryRun:\s*\n\s*description: [^\n]*(identity|sequence|AUTO_INCREMENT)/);
  });
});

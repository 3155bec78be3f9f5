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

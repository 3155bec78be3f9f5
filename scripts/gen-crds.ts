import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml } from '../src/api/crd.js';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
mkdirSync(crdDir, { recursive: true });
for (const [fileName, text] of Object.entries(renderCrdYaml())) {
  writeFileSync(join(crdDir, fileName), text);
  console.log(`wrote crds/${fileName}`);
}

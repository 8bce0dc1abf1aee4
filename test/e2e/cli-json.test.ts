/**
 * `plan --json` and `list --json` (docs/cli-json.md): real output validated against
 * docs/cli-json.schema.json, over a project with most verdicts a plan can give.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(JSON.parse(readFileSync(join(REPO, 'docs', 'events.schema.json'), 'utf8')) as object, 'events.schema.json');
ajv.addSchema(JSON.parse(readFileSync(join(REPO, 'docs', 'cli-json.schema.json'), 'utf8')) as object);

function validate(definition: 'plan' | 'list', document: unknown): void {
  const check = ajv.getSchema(`cli-json.schema.json#/$defs/${definition}`);
  if (check === undefined) throw new Error(`no schema for ${definition}`);
  expect(check(document), JSON.stringify(check.errors)).toBe(true);
}

const CONFIG = `export default {
  services: { api: { rate: '60/min', concurrent: 4 } },
  tasks: {
    upper: { uses: 'api', input: 'src/{name}.txt', output: 'work/{name}.up', run: "tr a-z A-Z < {input} > {output}", description: 'shout' },
    split: { input: 'docs/{doc}.txt', output: 'parts/{doc}/*.txt', run: "mkdir -p parts/{doc} && cp {input} parts/{doc}/x.txt" },
    join: { input: 'parts/{doc}/*.txt', output: 'out/{doc}.all', run: "cat {inputs} > {output}" },
    lonely: { input: 'missing.txt', output: 'l.txt', run: 'cp missing.txt l.txt' },
    picky: { input: 'src/{name}.txt', output: 'picky/{name}.txt', run: 'true', stale: () => { throw new Error('no'); } },
  },
};`;

describe('plan --json and list --json', () => {
  it('match docs/cli-json.schema.json, with units to run, fresh, blocked and failing alike', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'src/a.txt': 'a', 'src/b.txt': 'b', 'docs/d.txt': 'd' });
    expect((await rig.run(['build', 'upper[name=a]'])).code).toBe(0);
    const plan = await rig.run(['plan', '--json']);
    expect(plan.code).toBe(0);
    const planDoc = JSON.parse(plan.stdout) as { units: { verdict: string }[] };
    validate('plan', planDoc);
    expect(new Set(planDoc.units.map((u) => u.verdict))).toEqual(new Set(['run', 'fresh', 'blocked', 'fails']));
    const list = await rig.run(['list', '--json']);
    expect(list.code).toBe(0);
    validate('list', JSON.parse(list.stdout));
  });
});

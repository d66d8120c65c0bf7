// `hushbox preset ...`: the presets of a running box, through its HTTP API.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TARGET_OPTIONS, boxTarget, call } from '../web/client.js';
import { ValidationError } from '../errors.js';

export const PRESET_USAGE = `usage: hushbox preset <command> [--url URL --token TOKEN] [--data DIR]

  list                       every preset (factory ones marked)
  show ID                    one preset as JSON
  apply ID|NAME              recall a preset on the running box
  delete ID                  delete a user preset
  export [FILE] [--ids a,b]  a bundle of user presets (stdout without FILE)
  import FILE [--dry-run] [--collision overwrite|copy|skip]

The box is reached over its Unix socket (<data>/api.sock) when it exists, else at --url
(or http://127.0.0.1:<port> from the configuration) with --token TOKEN or $HUSHBOX_TOKEN.
`;

/** Runs one `hushbox preset` command and returns what to print. */
export async function presetCommand(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...TARGET_OPTIONS,
      'dry-run': { type: 'boolean' },
      collision: { type: 'string' },
      ids: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || command === 'help') return PRESET_USAGE;
  const base = boxTarget(values);
  const need = (what: string) => {
    if (!arg) throw new ValidationError(`hushbox preset ${command}: give ${what}\n${PRESET_USAGE}`);
    return encodeURIComponent(arg);
  };
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  switch (command) {
    case 'list': {
      const list = (await call(base, 'GET', '/api/presets')) as Array<{ id: string; name: string; tags: string[]; factory: boolean }>;
      const w = Math.max(...list.map((p) => p.id.length), 2);
      return list.map((p) => `${p.id.padEnd(w)}  ${p.name}${p.factory ? '  (factory)' : ''}${p.tags.length ? `  [${p.tags.join(', ')}]` : ''}\n`).join('');
    }
    case 'show':
      return json(await call(base, 'GET', `/api/presets/${need('a preset id')}`));
    case 'apply':
      return json(await call(base, 'POST', `/api/presets/${need('a preset id or name')}/apply`));
    case 'delete':
      await call(base, 'DELETE', `/api/presets/${need('a preset id')}`);
      return `deleted ${arg}\n`;
    case 'export': {
      const bundle = await call(base, 'GET', `/api/presets/export${values.ids ? `?ids=${encodeURIComponent(values.ids)}` : ''}`);
      if (!arg) return json(bundle);
      writeFileSync(arg, json(bundle));
      return `exported ${(bundle as { presets: unknown[] }).presets.length} presets to ${arg}\n`;
    }
    case 'import': {
      if (!arg) need('a bundle file');
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(arg!, 'utf8'));
      } catch (err) {
        throw new ValidationError(`${arg}: ${(err as Error).message}`);
      }
      const q = new URLSearchParams();
      if (values['dry-run']) q.set('dryRun', 'true');
      if (values.collision) q.set('collision', values.collision);
      return json(await call(base, 'POST', `/api/presets/import?${q}`, body));
    }
    default:
      throw new ValidationError(`hushbox preset: unknown command '${command ?? ''}'\n${PRESET_USAGE}`);
  }
}

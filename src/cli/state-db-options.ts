import { Option } from 'commander';
import { STATE_DB_ENV } from '../util/connection-url.js';

/** --state-db: a URL on the command line is visible to other local users in `ps`, hence the variable and the file. */
export function stateDbOption(fallback: string): Option {
  return new Option('--state-db <url>', `state database URL (default: $${STATE_DB_ENV}, else ${fallback}); other local users can read it in ps, so prefer $${STATE_DB_ENV} or --state-db-file`);
}

export function stateDbFileOption(): Option {
  return new Option('--state-db-file <path>', 'file holding the state database URL (keep it readable by you only)');
}

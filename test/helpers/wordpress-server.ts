import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/util/embedded-postgres.js';
import { freshMysqlDatabase } from './databases.js';

/**
 * A real WordPress for the tests: Debian's `wordpress` package on PHP's built-in server over a fresh
 * database on the test MariaDB server, installed without a browser, with an admin who has an
 * Application Password, and a custom post type `ferry_event` whose meta the REST API reads and writes.
 * Recipe: ../shared/notes/wordpress-test-server.md.
 */

const run = promisify(execFile);
const WORDPRESS = '/usr/share/wordpress';
const START_TIMEOUT_MS = 30_000;
const ADMIN = 'ferry-admin';

export const EVENT_POST_TYPE = 'ferry_event';
/** The registered meta of `ferry_event`, with their REST types. */
export const EVENT_META = { event_start: 'string', event_status: 'string', capacity: 'integer' } as const;

export interface RunningWordPress {
  /** `http://127.0.0.1:PORT/wp-json`: the REST root, as an http system's baseUrl. */
  baseUrl: string;
  /** `http://127.0.0.1:PORT`. */
  siteUrl: string;
  username: string;
  /** An Application Password of `username` (Basic auth). */
  applicationPassword: string;
  /** The WordPress database, for seeding with SQL: `mysql://…/<database>`, tables prefixed `tablePrefix`. */
  mysql: { url: string; database: string; tablePrefix: string };
  /** Client credentials for the tests' OAuth2 token endpoint (see OAUTH2_TEST_ENDPOINT). */
  oauth2: { tokenUrl: string; clientId: string; clientSecret: string };
  startMs: number;
  close(): Promise<void>;
}

export interface WordPressOptions {
  /** PHP worker processes of the built-in server. Default 4. */
  workers?: number;
  /** Extra PHP (without `<?php`) appended to the must-use plugin, e.g. more register_post_meta calls. */
  extraPlugin?: string;
  /** An empty database to install into (`mysql://…/<db>`), instead of a fresh one on the tests' MariaDB (the bench has its own server). */
  mysqlUrl?: string;
}

/** Why this machine cannot run the WordPress tests, or undefined when it can. */
export function wordpressProblem(): string | undefined {
  if (!existsSync(join(WORDPRESS, 'wp-load.php'))) return `the WordPress tests need Debian's wordpress package (${WORDPRESS} is missing): apt-get install wordpress php-cli php-mysql`;
  if (!existsSync('/usr/bin/php')) return 'the WordPress tests need php-cli and php-mysql (apt-get install php-cli php-mysql)';
  return undefined;
}

const php = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function mustUsePlugin(extra: string): string {
  const meta = Object.entries(EVENT_META)
    .map(([name, type]) => `  register_post_meta('${EVENT_POST_TYPE}', '${name}', ['type' => '${type}', 'single' => true, 'show_in_rest' => true]);`)
    .join('\n');
  return `<?php
// There is no sendmail on a test machine.
add_filter('pre_wp_mail', '__return_true');
add_action('init', function () {
  register_post_type('${EVENT_POST_TYPE}', [
    'label' => 'Events',
    'public' => true,
    'show_in_rest' => true,
    'rest_base' => '${EVENT_POST_TYPE}',
    'supports' => ['title', 'editor', 'excerpt', 'custom-fields'],
  ]);
${meta}
});
${OAUTH2_TEST_ENDPOINT}
${extra}
`;
}

/**
 * WordPress has no OAuth2 server, so the tests add a minimal client-credentials token endpoint
 * (a TEST DOUBLE of an OAuth2 provider, in WordPress so tokens are checked on real requests):
 * POST /ferry-test-oauth/token issues a token that lives `ferry_test_token_seconds` (an option, 3600),
 * counts issued tokens in `ferry_test_tokens_issued`, and a Bearer token it issued logs the admin in.
 * Handled at `init`, before the REST API would read the client's Basic credentials as an Application Password.
 */
const OAUTH2_TEST_ENDPOINT = `
add_action('init', function () {
  if (parse_url($_SERVER['REQUEST_URI'] ?? '', PHP_URL_PATH) !== '/ferry-test-oauth/token') return;
  header('Content-Type: application/json');
  $client = get_option('ferry_test_oauth_client');
  $id = $_SERVER['PHP_AUTH_USER'] ?? ($_POST['client_id'] ?? '');
  $secret = $_SERVER['PHP_AUTH_PW'] ?? ($_POST['client_secret'] ?? '');
  if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST' || ($_POST['grant_type'] ?? '') !== 'client_credentials') {
    http_response_code(400);
    exit(json_encode(['error' => 'unsupported_grant_type']));
  }
  if (!$client || !hash_equals($client['id'], (string) $id) || !hash_equals($client['secret'], (string) $secret)) {
    http_response_code(401);
    exit(json_encode(['error' => 'invalid_client', 'error_description' => 'unknown client or wrong secret']));
  }
  $token = wp_generate_password(40, false);
  $seconds = (int) get_option('ferry_test_token_seconds', 3600);
  set_transient('ferry_tok_' . md5($token), 1, $seconds);
  update_option('ferry_test_tokens_issued', (int) get_option('ferry_test_tokens_issued', 0) + 1);
  exit(json_encode(['access_token' => $token, 'token_type' => 'Bearer', 'expires_in' => $seconds]));
}, 0);
add_filter('determine_current_user', function ($user) {
  if ($user) return $user;
  if (!preg_match('/^Bearer\\s+(\\S+)$/', $_SERVER['HTTP_AUTHORIZATION'] ?? '', $m)) return $user;
  if (!get_transient('ferry_tok_' . md5($m[1]))) return $user;
  $admin = get_user_by('login', '${ADMIN}');
  return $admin ? $admin->ID : $user;
}, 30);
`;

function installScript(host: string, configName: string, password: string, oauth: { clientId: string; clientSecret: string }): string {
  return `<?php
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = ${php(host)};
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['WORDPRESS_CONFIG'] = ${php(configName)};
require '${WORDPRESS}/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$installed = wp_install('Ferry test site', ${php(ADMIN)}, 'admin@example.org', false, '', ${php(password)});
update_option('permalink_structure', '/%postname%/');
delete_option('rewrite_rules');
$app = WP_Application_Passwords::create_new_application_password($installed['user_id'], ['name' => 'ferry-tests']);
if (is_wp_error($app)) { fwrite(STDERR, $app->get_error_message()); exit(1); }
update_option('ferry_test_oauth_client', ['id' => ${php(oauth.clientId)}, 'secret' => ${php(oauth.clientSecret)}]);
echo json_encode(['password' => $app[0]]);
`;
}

/** Starts a fresh WordPress; the test MariaDB server (global setup) holds its database. */
export async function startWordPress(options: WordPressOptions = {}): Promise<RunningWordPress> {
  const problem = wordpressProblem();
  if (problem) throw new Error(problem);
  const started = Date.now();
  const mysqlUrl = new URL(options.mysqlUrl ?? (await freshMysqlDatabase('wp')));
  const database = mysqlUrl.pathname.slice(1);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const siteUrl = `http://${host}`;
  const id = randomBytes(6).toString('hex');
  // Debian's wp-config.php reads /etc/wordpress/config-<name>.php; this bridge only points at the test's own config.
  const configName = `ferry-test-${id}`;
  const bridge = `/etc/wordpress/config-${configName}.php`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wordpress-'));
  const content = join(dir, 'wp-content');
  mkdirSync(join(content, 'mu-plugins'), { recursive: true });
  symlinkSync(join(WORDPRESS, 'wp-content', 'themes'), join(content, 'themes'));
  writeFileSync(join(content, 'mu-plugins', 'ferry-test.php'), mustUsePlugin(options.extraPlugin ?? ''));
  const tablePrefix = 'wp_';
  writeFileSync(
    join(dir, 'config.php'),
    `<?php
define('DB_NAME', ${php(database)});
define('DB_USER', ${php(decodeURIComponent(mysqlUrl.username))});
define('DB_PASSWORD', ${php(decodeURIComponent(mysqlUrl.password))});
define('DB_HOST', ${php(`${mysqlUrl.hostname}:${mysqlUrl.port || '3306'}`)});
define('WP_HOME', ${php(siteUrl)});
define('WP_SITEURL', ${php(siteUrl)});
define('WP_CONTENT_DIR', ${php(content)});
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
$table_prefix = ${php(tablePrefix)};
`,
  );
  mkdirSync('/etc/wordpress', { recursive: true });
  removeStaleBridges();
  writeFileSync(bridge, `<?php\nrequire ${php(join(dir, 'config.php'))};\n`);
  // php -S does not pass its environment into $_SERVER; a router script sets the config name.
  writeFileSync(join(dir, 'router.php'), `<?php\n$_SERVER['WORDPRESS_CONFIG'] = ${php(configName)};\nreturn false;\n`);
  const oauth = { clientId: `ferry-${id}`, clientSecret: randomBytes(18).toString('base64url') };
  writeFileSync(join(dir, 'install.php'), installScript(host, configName, randomBytes(12).toString('hex'), oauth));

  let server: ChildProcess | undefined;
  const kill = (signal: NodeJS.Signals) => {
    // Its own process group: killing only the parent leaves the workers holding the port.
    if (server?.pid && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const orphaned = () => {
    kill('SIGKILL');
    rmSync(bridge, { force: true });
  };
  process.once('exit', orphaned);
  const close = async () => {
    process.off('exit', orphaned);
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      kill('SIGTERM');
      const timeout = setTimeout(() => kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timeout);
    }
    rmSync(bridge, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const installing = Date.now();
    const { stdout } = await run('php', [join(dir, 'install.php')], { cwd: dir });
    const installMs = Date.now() - installing;
    const applicationPassword = (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { password: string }).password;
    const log = openSync(join(dir, 'php-server.log'), 'a');
    server = spawn('php', ['-S', host, '-t', WORDPRESS, join(dir, 'router.php')], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, PHP_CLI_SERVER_WORKERS: String(options.workers ?? 4) },
    });
    closeSync(log);
    try {
      await waitUntilServing(server, `${siteUrl}/wp-json/`);
    } catch (error) {
      const tail = readFileSync(join(dir, 'php-server.log'), 'utf8').trim().split('\n').slice(-5).join(' | ');
      throw new Error(`${(error as Error).message}${tail ? `; php -S said: ${tail}` : ''}`);
    }
    if (process.env.FERRY_TEST_TIMINGS) console.log(`WordPress started in ${Date.now() - started} ms (install ${installMs} ms)`);
    return {
      baseUrl: `${siteUrl}/wp-json`,
      siteUrl,
      username: ADMIN,
      applicationPassword,
      mysql: { url: mysqlUrl.toString(), database, tablePrefix },
      oauth2: { tokenUrl: `${siteUrl}/ferry-test-oauth/token`, ...oauth },
      startMs: Date.now() - started,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Bridges left by test processes that were killed before their clean-up: their config is gone. */
function removeStaleBridges(): void {
  for (const name of readdirSync('/etc/wordpress')) {
    if (!/^config-ferry-test-[0-9a-f]+\.php$/.test(name)) continue;
    const file = join('/etc/wordpress', name);
    const target = /require '([^']+)'/.exec(readFileSync(file, 'utf8'))?.[1];
    if (target && !existsSync(target)) rmSync(file, { force: true });
  }
}

async function waitUntilServing(server: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`php -S exited with code ${server.exitCode} while starting`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
      if (Date.now() > deadline) throw new Error(`WordPress answered ${response.status} at ${url}`);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`WordPress did not answer at ${url} within ${START_TIMEOUT_MS / 1000}s: ${(error as Error).message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

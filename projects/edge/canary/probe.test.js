'use strict';
// Run with: node --test projects/edge/canary/   (no npm dependencies)
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const {
  ConfigError,
  DEFAULT_TIMEOUT_MS,
  httpGet,
  loadConfig,
  parseTargets,
  parseTimeoutMs,
  probeAll,
  probeTarget,
  verdict,
} = require('./probe');

// ---------------------------------------------------------------------------------------------
// A real HTTP server on 127.0.0.1 (ephemeral port) standing in for the regional APIs.
// ---------------------------------------------------------------------------------------------
let server;
let base;
let refusedUrl;

function listen(srv) {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));
}

before(async () => {
  server = http.createServer((req, res) => {
    switch (req.url) {
      case '/health':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ region: 'us-east-1', role: 'active', checks: { table: 'ok' } }));
        return;
      case '/unavailable':
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify({ status: 'unhealthy' }));
        return;
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>maintenance</body></html>');
        return;
      case '/empty':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end();
        return;
      case '/hang':
        // Accept the request and never answer: only the probe deadline ends it.
        return;
      case '/echo-headers':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accept: req.headers.accept, userAgent: req.headers['user-agent'] }));
        return;
      default:
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"message":"not found"}');
    }
  });
  base = `http://127.0.0.1:${await listen(server)}`;

  // A port that was just bound and released: connecting to it is refused.
  const closed = http.createServer();
  const port = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  refusedUrl = `http://127.0.0.1:${port}/health`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// ---------------------------------------------------------------------------------------------
// probeTarget over real sockets with the default getter
// ---------------------------------------------------------------------------------------------
describe('probeTarget against a local server', () => {
  test('healthy: 200 with a JSON body is ok', async () => {
    const result = await probeTarget({ name: 'primary', url: `${base}/health` }, { timeoutMs: 2000 });
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
    assert.equal(result.error, null);
    assert.equal(result.name, 'primary');
    assert.equal(result.url, `${base}/health`);
    assert.equal(Number.isInteger(result.latencyMs), true);
    assert.ok(result.latencyMs >= 0 && result.latencyMs < 2000, `latency ${result.latencyMs}`);
  });

  test('503 is a failure that names the status', async () => {
    const result = await probeTarget({ name: 'secondary', url: `${base}/unavailable` }, { timeoutMs: 2000 });
    assert.deepEqual(
      { ok: result.ok, status: result.status, error: result.error },
      { ok: false, status: 503, error: 'HTTP 503 (expected 200)' },
    );
  });

  test('404 is a failure', async () => {
    const result = await probeTarget({ name: 'secondary', url: `${base}/nope` }, { timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, 404);
    assert.equal(result.error, 'HTTP 404 (expected 200)');
  });

  test('200 with an HTML body is an invalid-JSON failure', async () => {
    const result = await probeTarget({ name: 'primary', url: `${base}/html` }, { timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, 200);
    assert.match(result.error, /^invalid JSON body \(.+\)$/);
  });

  test('200 with an empty body is an invalid-JSON failure', async () => {
    const result = await probeTarget({ name: 'primary', url: `${base}/empty` }, { timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, 200);
    assert.match(result.error, /^invalid JSON body/);
  });

  test('a server that never answers times out at the deadline', async () => {
    const result = await probeTarget({ name: 'primary', url: `${base}/hang` }, { timeoutMs: 150 });
    assert.equal(result.ok, false);
    assert.equal(result.status, null);
    assert.equal(result.error, 'timeout after 150 ms');
    assert.ok(result.latencyMs >= 140 && result.latencyMs < 1500, `latency ${result.latencyMs}`);
  });

  test('connection refused is a failure that names ECONNREFUSED', async () => {
    const result = await probeTarget({ name: 'secondary', url: refusedUrl }, { timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, null);
    assert.match(result.error, /^request failed: .*ECONNREFUSED/);
  });

  test('the default getter asks for JSON and identifies itself', async () => {
    const response = await httpGet(`${base}/echo-headers`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), {
      accept: 'application/json',
      userAgent: 'trading-dr-health-canary',
    });
  });

  test('probeAll probes every target and keeps their order', async () => {
    const results = await probeAll(
      [
        { name: 'us-east-1', url: `${base}/health` },
        { name: 'us-east-2', url: `${base}/unavailable` },
        { name: 'us-west-2', url: refusedUrl },
      ],
      { timeoutMs: 2000 },
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.ok, r.status]),
      [
        ['us-east-1', true, 200],
        ['us-east-2', false, 503],
        ['us-west-2', false, null],
      ],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// probeTarget with injected getters
// ---------------------------------------------------------------------------------------------
describe('probeTarget with an injected getter', () => {
  const target = { name: 'primary', url: 'https://api.example.test/dev/health' };

  test('passes the URL and an abort signal to the getter', async () => {
    const calls = [];
    const get = async (url, options) => {
      calls.push({ url, hasSignal: options.signal instanceof AbortSignal, timeoutMs: options.timeoutMs });
      return { status: 200, body: '{"role":"passive"}' };
    };
    const result = await probeTarget(target, { get, timeoutMs: 1234 });
    assert.deepEqual(calls, [{ url: target.url, hasSignal: true, timeoutMs: 1234 }]);
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
  });

  test('a JSON scalar body is still JSON and passes', async () => {
    const result = await probeTarget(target, { get: async () => ({ status: 200, body: 'true' }) });
    assert.equal(result.ok, true);
  });

  test('503 from the getter fails', async () => {
    const result = await probeTarget(target, { get: async () => ({ status: 503, body: '{}' }) });
    assert.equal(result.ok, false);
    assert.equal(result.error, 'HTTP 503 (expected 200)');
  });

  test('invalid JSON from the getter fails', async () => {
    const result = await probeTarget(target, { get: async () => ({ status: 200, body: '{"region":' }) });
    assert.equal(result.ok, false);
    assert.match(result.error, /^invalid JSON body/);
  });

  test('a getter that ignores the signal still cannot outlive the deadline', async () => {
    const result = await probeTarget(target, { get: () => new Promise(() => {}), timeoutMs: 50 });
    assert.equal(result.ok, false);
    assert.equal(result.status, null);
    assert.equal(result.error, 'timeout after 50 ms');
  });

  test('the signal is aborted when the deadline passes', async () => {
    let seen;
    const get = (url, { signal }) =>
      new Promise((_, reject) => {
        seen = signal;
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const result = await probeTarget(target, { get, timeoutMs: 30 });
    assert.equal(seen.aborted, true);
    assert.equal(result.error, 'timeout after 30 ms');
  });

  test('a transport error is a failure with its code', async () => {
    const get = async () => {
      const err = new Error('getaddrinfo ENOTFOUND api.example.test');
      err.code = 'ENOTFOUND';
      throw err;
    };
    const result = await probeTarget(target, { get });
    assert.deepEqual(
      { ok: result.ok, status: result.status, error: result.error },
      { ok: false, status: null, error: 'request failed: getaddrinfo ENOTFOUND api.example.test' },
    );
  });

  test('an error without the code in its message gets the code prefixed', async () => {
    const get = async () => {
      const err = new Error('socket hang up');
      err.code = 'ECONNRESET';
      throw err;
    };
    const result = await probeTarget(target, { get });
    assert.equal(result.error, 'request failed: ECONNRESET socket hang up');
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------------------------
describe('TARGETS validation', () => {
  const good = JSON.stringify([
    { name: 'us-east-1', url: 'https://a.execute-api.us-east-1.amazonaws.com/dev/health' },
    { name: 'us-east-2', url: 'https://b.execute-api.us-east-2.amazonaws.com/dev/health' },
  ]);

  test('a valid list is returned as {name, url} pairs', () => {
    assert.deepEqual(parseTargets(good), [
      { name: 'us-east-1', url: 'https://a.execute-api.us-east-1.amazonaws.com/dev/health' },
      { name: 'us-east-2', url: 'https://b.execute-api.us-east-2.amazonaws.com/dev/health' },
    ]);
  });

  test('extra keys are dropped', () => {
    assert.deepEqual(parseTargets('[{"name":"a","url":"http://127.0.0.1/health","extra":1}]'), [
      { name: 'a', url: 'http://127.0.0.1/health' },
    ]);
  });

  const bad = [
    ['unset', undefined, 'TARGETS is not set: expected a JSON array of {"name", "url"} objects'],
    ['empty string', '', 'TARGETS is not set: expected a JSON array of {"name", "url"} objects'],
    ['blank string', '   ', 'TARGETS is not set: expected a JSON array of {"name", "url"} objects'],
    ['not JSON', '[{name: a}]', /^TARGETS is not valid JSON \(.+\): expected a JSON array of \{"name", "url"\} objects$/],
    ['an object', '{"name":"a","url":"https://x/health"}', 'TARGETS must be a JSON array, got a object: expected a JSON array of {"name", "url"} objects'],
    ['a string', '"https://x/health"', 'TARGETS must be a JSON array, got a string: expected a JSON array of {"name", "url"} objects'],
    ['empty array', '[]', 'TARGETS is an empty array: expected a JSON array of {"name", "url"} objects'],
    ['entry not an object', '["https://x/health"]', 'TARGETS[0] must be an object with "name" and "url", got a string'],
    ['entry null', '[null]', 'TARGETS[0] must be an object with "name" and "url", got null'],
    ['name missing', '[{"url":"https://x/health"}]', 'TARGETS[0].name must be a non-empty string'],
    ['name empty', '[{"name":" ","url":"https://x/health"}]', 'TARGETS[0].name must be a non-empty string'],
    ['url missing', '[{"name":"a","url":"https://x/health"},{"name":"b"}]', 'TARGETS[1].url must be a non-empty string'],
    ['url not a URL', '[{"name":"a","url":"not a url"}]', 'TARGETS[0].url "not a url" is not a valid URL'],
    ['url not http(s)', '[{"name":"a","url":"ftp://x/health"}]', 'TARGETS[0].url "ftp://x/health" must use https or http'],
    ['duplicate names', '[{"name":"a","url":"https://x/health"},{"name":"a","url":"https://y/health"}]', 'TARGETS[1].name "a" is a duplicate; target names must be unique'],
  ];
  for (const [label, raw, message] of bad) {
    test(`rejects ${label}`, () => {
      assert.throws(() => parseTargets(raw), (err) => {
        assert.ok(err instanceof ConfigError);
        if (message instanceof RegExp) assert.match(err.message, message);
        else assert.equal(err.message, message);
        return true;
      });
    });
  }
});

describe('PROBE_TIMEOUT_MS', () => {
  test('defaults to 5000 ms', () => {
    assert.equal(DEFAULT_TIMEOUT_MS, 5000);
    assert.equal(parseTimeoutMs(undefined), 5000);
    assert.equal(parseTimeoutMs(''), 5000);
  });

  test('accepts a positive integer', () => {
    assert.equal(parseTimeoutMs('1500'), 1500);
    assert.equal(parseTimeoutMs(' 250 '), 250);
  });

  for (const raw of ['0', '-5', '1.5', 'abc', '5s']) {
    test(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(() => parseTimeoutMs(raw), {
        name: 'ConfigError',
        message: `PROBE_TIMEOUT_MS ${JSON.stringify(raw)} must be a positive integer of milliseconds`,
      });
    });
  }

  test('loadConfig reads both variables', () => {
    const env = { TARGETS: '[{"name":"a","url":"http://127.0.0.1:1/health"}]', PROBE_TIMEOUT_MS: '750' };
    assert.deepEqual(loadConfig(env), {
      targets: [{ name: 'a', url: 'http://127.0.0.1:1/health' }],
      timeoutMs: 750,
    });
  });

  test('loadConfig fails on a missing TARGETS', () => {
    assert.throws(() => loadConfig({}), { name: 'ConfigError', message: /^TARGETS is not set/ });
  });
});

// ---------------------------------------------------------------------------------------------
// Verdict
// ---------------------------------------------------------------------------------------------
describe('verdict', () => {
  const ok = (name, latencyMs) => ({ name, url: `https://${name}/health`, ok: true, status: 200, latencyMs, error: null });
  const bad = (name, error, status = null) => ({ name, url: `https://${name}/health`, ok: false, status, latencyMs: 5, error });

  test('all healthy returns a summary', () => {
    assert.equal(verdict([ok('us-east-1', 12), ok('us-east-2', 30)]), 'all 2 targets healthy: us-east-1 12 ms, us-east-2 30 ms');
  });

  test('throws naming the failed target and its reason, not the healthy one', () => {
    assert.throws(() => verdict([ok('us-east-1', 12), bad('us-east-2', 'HTTP 503 (expected 200)', 503)]), {
      message: 'health canary failed: 1 of 2 targets unhealthy: us-east-2 (https://us-east-2/health): HTTP 503 (expected 200)',
    });
  });

  test('throws listing every failed target', () => {
    assert.throws(() => verdict([bad('us-east-1', 'timeout after 5000 ms'), bad('us-east-2', 'invalid JSON body (x)', 200)]), {
      message:
        'health canary failed: 2 of 2 targets unhealthy: us-east-1 (https://us-east-1/health): timeout after 5000 ms; ' +
        'us-east-2 (https://us-east-2/health): invalid JSON body (x)',
    });
  });

  test('an empty result list is a failure', () => {
    assert.throws(() => verdict([]), { message: 'health canary failed: no targets were probed' });
  });

  test('end to end: a real 503 makes the verdict throw with that region', async () => {
    const results = await probeAll(
      [
        { name: 'us-east-1', url: `${base}/health` },
        { name: 'us-east-2', url: `${base}/unavailable` },
      ],
      { timeoutMs: 2000 },
    );
    assert.throws(() => verdict(results), (err) => {
      assert.match(err.message, /^health canary failed: 1 of 2 targets unhealthy: us-east-2 \(http:\/\/127\.0\.0\.1:\d+\/unavailable\): HTTP 503 \(expected 200\)$/);
      assert.doesNotMatch(err.message, /us-east-1/);
      return true;
    });
  });
});

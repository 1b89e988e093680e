'use strict';
// The canary handler with a stand-in for the Synthetics library (which exists only in the
// Lambda layer) and a real HTTP server on 127.0.0.1 as the regional APIs.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { createHandler, requireFirst } = require('./index');

let server;
let base;

before(async () => {
  server = http.createServer((req, res) => {
    const healthy = req.url === '/primary/health';
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ healthy }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Records steps like the Synthetics library: a step that throws is failed and rethrown. */
function fakeSynthetics() {
  const steps = [];
  return {
    steps,
    async executeStep(name, fn) {
      try {
        const value = await fn();
        steps.push({ name, status: 'passed' });
        return value;
      } catch (err) {
        steps.push({ name, status: 'failed', reason: err.message });
        throw err;
      }
    },
  };
}

function fakeLog() {
  const lines = [];
  return { lines, info: (m) => lines.push(['info', m]), error: (m) => lines.push(['error', m]) };
}

test('one step per target; all healthy returns the summary', async () => {
  const synthetics = fakeSynthetics();
  const log = fakeLog();
  const env = {
    TARGETS: JSON.stringify([
      { name: 'us-east-1', url: `${base}/primary/health` },
      { name: 'us-east-2', url: `${base}/primary/health` },
    ]),
  };
  const summary = await createHandler({ synthetics, log, env })();
  assert.match(summary, /^all 2 targets healthy: us-east-1 \d+ ms, us-east-2 \d+ ms$/);
  assert.deepEqual(synthetics.steps, [
    { name: 'health-us-east-1', status: 'passed' },
    { name: 'health-us-east-2', status: 'passed' },
  ]);
});

test('a failed region fails its step, the other is still probed, and the run throws', async () => {
  const synthetics = fakeSynthetics();
  const log = fakeLog();
  const env = {
    TARGETS: JSON.stringify([
      { name: 'us-east-1', url: `${base}/secondary/health` },
      { name: 'us-east-2', url: `${base}/primary/health` },
    ]),
    PROBE_TIMEOUT_MS: '2000',
  };
  await assert.rejects(createHandler({ synthetics, log, env })(), {
    message: `health canary failed: 1 of 2 targets unhealthy: us-east-1 (${base}/secondary/health): HTTP 503 (expected 200)`,
  });
  assert.deepEqual(synthetics.steps, [
    { name: 'health-us-east-1', status: 'failed', reason: 'us-east-1 unhealthy: HTTP 503 (expected 200)' },
    { name: 'health-us-east-2', status: 'passed' },
  ]);
});

test('a step that does not rethrow (continueOnStepFailure) still fails the run', async () => {
  const synthetics = {
    async executeStep(name, fn) {
      try {
        return await fn();
      } catch {
        return undefined;
      }
    },
  };
  const env = { TARGETS: JSON.stringify([{ name: 'us-east-2', url: `${base}/other/health` }]) };
  await assert.rejects(createHandler({ synthetics, log: fakeLog(), env })(), {
    message: /^health canary failed: 1 of 1 targets unhealthy: us-east-2 .*HTTP 503/,
  });
});

test('a bad TARGETS fails the run before any step', async () => {
  const synthetics = fakeSynthetics();
  await assert.rejects(createHandler({ synthetics, log: fakeLog(), env: { TARGETS: '[]' } })(), {
    name: 'ConfigError',
    message: 'TARGETS is an empty array: expected a JSON array of {"name", "url"} objects',
  });
  assert.deepEqual(synthetics.steps, []);
});

test('requireFirst prefers the @aws namespace and falls back to the legacy name', () => {
  const notFound = (name) => Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  const legacyOnly = (name) => {
    if (name === 'Synthetics') return 'legacy';
    throw notFound(name);
  };
  assert.equal(requireFirst(['@aws/synthetics-puppeteer', 'Synthetics'], legacyOnly), 'legacy');
  const both = (name) => name;
  assert.equal(requireFirst(['@aws/synthetics-puppeteer', 'Synthetics'], both), '@aws/synthetics-puppeteer');
  const absent = (name) => {
    throw notFound(name);
  };
  assert.throws(() => requireFirst(['A', 'B'], absent), {
    message: 'none of the Synthetics modules A, B is available: is this a Node.js Puppeteer Synthetics runtime?',
  });
  const broken = () => {
    throw new SyntaxError('boom');
  };
  assert.throws(() => requireFirst(['A'], broken), SyntaxError);
});

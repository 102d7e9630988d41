// The tools a front-end team points at lianxin, run against a live server with demo data:
//   1. graphql-schema-linter over schema.graphql (descriptions required everywhere);
//   2. graphql-inspector: the live introspection against schema.graphql (no change at all);
//   3. graphql-codegen (typescript + typescript-operations) over the live introspection and
//      every operation of docs/operations/ and the README, then `tsc --noEmit --strict`;
//   4. Apollo Client + graphql-ws: log in, page the wish wall with cursors, subscribe to
//      wishEvents, claim a wish and receive the event;
//   5. graphql-sse (distinct connections): subscribe to wishEvents over SSE, release the
//      claimed wish and receive the event;
//   6. graphql-codegen's client preset with persisted documents (sha256): its
//      persisted-documents.json is written to LIANXIN_PERSISTED_OUT for the server to trust;
//   7. graphql-inspector: the live schema against the last released one (released.graphql):
//      no breaking change, renamed fields kept with @deprecated;
//   8. graphql-js as the judge of the spec: the same documents validated and executed by
//      graphql-js over the live schema (fed the server's own data) give what the server gave.
// Usage: node tests/frontend/check.mjs http://127.0.0.1:PORT
// Prints one JSON report as its last line: { steps: { name: { ok, detail } } }.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  buildClientSchema,
  buildSchema,
  execute,
  getIntrospectionQuery,
  parse,
  validate,
} from 'graphql';
import { diff } from '@graphql-inspector/core';
import { generate } from '@graphql-codegen/cli';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

// Node 20 has no global WebSocket; Apollo's link refers to it when it reads a close.
globalThis.WebSocket ??= WebSocket;

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bin = (name) => join(here, 'node_modules', '.bin', name);
process.chdir(here); // codegen resolves its plugins from the working folder
const base = process.argv[2];
if (!base) {
  console.error('usage: node check.mjs http://127.0.0.1:PORT');
  process.exit(2);
}
const endpoint = `${base}/graphql`;
const steps = {};

async function step(name, fn) {
  try {
    const detail = await fn();
    steps[name] = { ok: true, detail: detail ?? null };
  } catch (e) {
    steps[name] = { ok: false, detail: String(e?.stack ?? e).slice(0, 4000) };
  }
}

async function post(query, variables, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(endpoint, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

/** Every operation the docs show: docs/operations/*.graphql and the README's graphql blocks. */
function operations() {
  const out = [];
  const dir = join(root, 'docs', 'operations');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort()) {
    out.push({ source: `docs/operations/${f}`, text: readFileSync(join(dir, f), 'utf8') });
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)];
  blocks.forEach((m, i) => out.push({ source: `README.md block ${i + 1}`, text: m[1] }));
  return out;
}

await step('lint', async () => {
  const rules = [
    'types-have-descriptions',
    'fields-have-descriptions',
    'arguments-have-descriptions',
    'enum-values-have-descriptions',
    'input-object-values-have-descriptions',
    'deprecations-have-a-reason',
    'descriptions-are-capitalized',
    'types-are-capitalized',
    'fields-are-camel-cased',
    'input-object-values-are-camel-cased',
    'enum-values-all-caps',
    'defined-types-are-used',
    'relay-connection-types-spec',
    'relay-page-info-spec',
  ];
  try {
    await run(bin('graphql-schema-linter'), ['--rules', rules.join(','), join(root, 'schema.graphql')]);
  } catch (e) {
    throw new Error(`graphql-schema-linter: ${e.stdout}${e.stderr}`);
  }
  return `${rules.length} rules`;
});

let live;
await step('inspector', async () => {
  const query = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    inputValueDeprecation: true,
    schemaDescription: false,
  });
  const res = await post(query);
  if (res.errors) throw new Error(`introspection refused: ${JSON.stringify(res.errors)}`);
  live = buildClientSchema(res.data);
  const file = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));
  // An introspected schema carries `specifiedByURL` but no directive usages: compare the
  // URLs here, and ignore the "directive removed" that the missing usage reads as.
  const specified = [];
  for (const type of Object.values(file.getTypeMap())) {
    if (type.specifiedByURL === undefined) continue;
    const got = live.getType(type.name)?.specifiedByURL;
    if (got !== type.specifiedByURL) {
      throw new Error(`${type.name} is specified by ${got} live and ${type.specifiedByURL} in the file`);
    }
    if (type.specifiedByURL) specified.push(type.name);
  }
  // Likewise `@deprecated`: introspection carries each deprecation's reason (compared by the
  // diff as a reason change) but not the directive's usage.
  const changes = (await diff(file, live)).filter(
    (c) =>
      !specified.some((n) => c.message === `Directive 'specifiedBy' was removed from scalar '${n}'`) &&
      !c.message.startsWith("Directive 'deprecated' was removed from "),
  );
  if (specified.length < 2) throw new Error(`@specifiedBy missing: ${specified}`);
  if (changes.length > 0) {
    throw new Error(`the live schema differs from schema.graphql: ${JSON.stringify(changes.map((c) => c.message))}`);
  }
  return `${Object.keys(live.getTypeMap()).length} types, no change`;
});

await step('released', async () => {
  if (!live) throw new Error('no live schema (the inspector step failed)');
  const released = buildSchema(readFileSync(join(here, 'released.graphql'), 'utf8'));
  const changes = await diff(released, live);
  const breaking = changes.filter((c) => c.criticality.level === 'BREAKING');
  if (breaking.length > 0) {
    throw new Error(`breaking changes since the released schema: ${JSON.stringify(breaking.map((c) => c.message))}`);
  }
  const deprecations = changes
    .filter((c) => c.path?.endsWith('.@deprecated'))
    .map((c) => c.path.slice(0, -'.@deprecated'.length));
  return { changes: changes.length, breaking: 0, deprecations };
});

await step('spec', async () => {
  if (!live) throw new Error('no live schema (the inspector step failed)');
  const login = await post('mutation { login(input: {username: "admin", password: "lianxin-demo"}) { token } }');
  const token = login.data.login.token;
  const judged = [];
  // 3. An omitted variable lets the argument's default apply (graphql-js: CoerceArgumentValues).
  {
    const text = 'query($m: Boolean) { wishes(claimedByMe: $m) { totalCount } }';
    const doc = parse(text);
    if (validate(live, doc).length) throw new Error(`graphql-js refuses ${text}`);
    let seen;
    const js = await execute({
      schema: live,
      document: doc,
      variableValues: {},
      rootValue: { wishes: (args) => { seen = args; return { totalCount: 0 }; } },
    });
    if (js.errors || seen.claimedByMe !== false) throw new Error(`graphql-js: ${JSON.stringify(js)} ${JSON.stringify(seen)}`);
    const server = await post(text, {}, token);
    if (server.errors || typeof server.data?.wishes?.totalCount !== 'number') {
      throw new Error(`server: ${JSON.stringify(server)}`);
    }
    judged.push('omitted variable: the default applies');
  }
  // 4. A subscription selects exactly one root field.
  {
    const text = 'subscription { a: wishEvents(communityId: "1") { kind } b: wishEvents(communityId: "2") { kind } }';
    const errors = validate(live, parse(text));
    if (!errors.some((e) => /must select only one top level field/i.test(e.message))) {
      throw new Error(`graphql-js accepts it: ${JSON.stringify(errors)}`);
    }
    const server = await post(text, {}, token);
    if (!server.errors || server.errors[0].extensions?.code !== 'GRAPHQL_VALIDATION_FAILED') {
      throw new Error(`server: ${JSON.stringify(server)}`);
    }
    judged.push('subscription: one root field');
  }
  // 5 and 6. Key order follows the selection; a field the viewer may not read is null without
  // an error and leaves its parent whole: graphql-js, executing over the server's own data,
  // gives the same response, key by key and in the same order.
  const same = async (text, tok, label) => {
    const server = await post(text, {}, tok);
    if (server.errors) throw new Error(`${label}: server errors ${JSON.stringify(server.errors)}`);
    const js = await execute({ schema: live, document: parse(text), rootValue: server.data });
    if (js.errors) throw new Error(`${label}: graphql-js errors ${JSON.stringify(js.errors)}`);
    const a = JSON.stringify(server.data);
    const b = JSON.stringify(js.data);
    if (a !== b) throw new Error(`${label}: server ${a.slice(0, 600)} graphql-js ${b.slice(0, 600)}`);
    return server.data;
  };
  await same('{ me { id roles { role } username displayName } }', token, 'key order');
  judged.push('keys in selection order');
  const anon = await same(
    '{ wishes(first: 20) { nodes { id status claimant { displayName roles { role } } } } }',
    undefined,
    'gated fields',
  );
  const claimed = anon.wishes.nodes.filter((n) => n.claimant);
  if (claimed.length === 0 || !claimed.every((n) => n.claimant.displayName && Array.isArray(n.claimant.roles))) {
    throw new Error(`claimants nulled: ${JSON.stringify(anon).slice(0, 600)}`);
  }
  judged.push('a gated field leaves its parent whole');
  return judged;
});

await step('codegen', async () => {
  const ops = operations();
  const names = new Map();
  for (const op of ops) {
    for (const def of parse(op.text).definitions) {
      if (def.kind !== 'OperationDefinition') continue;
      if (!def.name) throw new Error(`an operation without a name in ${op.source}`);
      const n = def.name.value;
      if (names.has(n)) throw new Error(`operation ${n} in ${op.source} and in ${names.get(n)}`);
      names.set(n, op.source);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'lianxin-codegen-'));
  try {
    const docs = ops.map((op, i) => {
      const f = join(work, `op${String(i).padStart(2, '0')}.graphql`);
      writeFileSync(f, op.text);
      return f;
    });
    // typescript-operations 6 is self-contained (its own enums and inputs): the schema's
    // types and the operations' types go to two files, each compiled.
    const schemaTs = join(work, 'schema.ts');
    const out = join(work, 'operations.ts');
    const config = { scalars: { Date: 'string', DateTime: 'string', Upload: 'File' }, strictScalars: true };
    await generate(
      {
        schema: endpoint,
        documents: docs,
        silent: true,
        errorsOnly: true,
        generates: {
          [schemaTs]: { plugins: ['typescript'], config },
          [out]: { plugins: ['typescript-operations'], config },
        },
      },
      true,
    );
    const ts = readFileSync(out, 'utf8');
    for (const n of names.keys()) {
      if (!ts.includes(`export type ${n}Query`) && !ts.includes(`export type ${n}Mutation`) && !ts.includes(`export type ${n}Subscription`)) {
        throw new Error(`no type generated for operation ${n}`);
      }
    }
    try {
      await run(bin('tsc'), ['--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler', schemaTs, out]);
    } catch (e) {
      throw new Error(`tsc: ${e.stdout}${e.stderr}`);
    }
    return `${names.size} operations typed, tsc clean`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

await step('apollo', async () => {
  const login = await post(
    'mutation FrontendLogin($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }',
    { u: 'member1', p: 'lianxin-demo' },
  );
  const token = login?.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login)}`);

  const http = new HttpLink({ uri: endpoint, headers: { authorization: `Bearer ${token}` } });
  const ws = createClient({
    url: `${endpoint.replace(/^http/, 'ws')}/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const link = ApolloLink.split(
    ({ query }) => {
      const def = getMainDefinition(query);
      return def.kind === 'OperationDefinition' && def.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    http,
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  try {
    const communities = await client.query({
      query: gql`query FrontendCommunities { communities { nodes { id name } } }`,
    });
    const huitong = communities.data.communities.nodes.find((c) => c.name === '汇通社区');
    if (!huitong) throw new Error('汇通社区 not found');

    const page = gql`
      query FrontendWall($communityId: ID, $after: String) {
        wishes(communityId: $communityId, first: 2, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { id title status beneficiaryName }
        }
      }`;
    const first = await client.query({ query: page, variables: { communityId: huitong.id, after: null } });
    const p1 = first.data.wishes;
    if (p1.nodes.length !== 2 || !p1.pageInfo.hasNextPage) {
      throw new Error(`first page: ${JSON.stringify(p1)}`);
    }
    const second = await client.query({
      query: page,
      variables: { communityId: huitong.id, after: p1.pageInfo.endCursor },
    });
    const p2 = second.data.wishes;
    const ids1 = new Set(p1.nodes.map((n) => n.id));
    if (p2.nodes.length === 0 || p2.nodes.some((n) => ids1.has(n.id))) {
      throw new Error(`second page overlaps or is empty: ${JSON.stringify(p2)}`);
    }
    const open = await client.query({
      query: gql`query FrontendOpenWish($communityId: ID) {
        wishes(communityId: $communityId, status: PUBLISHED, first: 1) { nodes { id } }
      }`,
      variables: { communityId: huitong.id },
    });
    const target = open.data.wishes.nodes[0];
    if (!target) throw new Error('no published wish to claim');

    const received = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no wishEvents within 20 s')), 20000);
      const sub = client
        .subscribe({
          query: gql`subscription FrontendWishEvents($communityId: ID!) {
            wishEvents(communityId: $communityId) { kind wish { id status } }
          }`,
          variables: { communityId: huitong.id },
        })
        .subscribe({
          next: (r) => {
            if (r.error) {
              clearTimeout(timer);
              reject(r.error);
              return;
            }
            const e = r.data?.wishEvents;
            if (e && e.wish.id === target.id) {
              clearTimeout(timer);
              sub.unsubscribe();
              resolve(e);
            }
          },
          error: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        });
    });
    received.catch(() => {});
    // graphql-ws acknowledges the connection before the server starts listening to events:
    // claim only once the subscription is registered (a short, bounded wait for the ack).
    await new Promise((resolve) => {
      const off = ws.on('connected', () => {
        off();
        resolve();
      });
      setTimeout(resolve, 3000);
    });
    await new Promise((r) => setTimeout(r, 200));
    const claim = await client.mutate({
      mutation: gql`mutation FrontendClaim($id: ID!) { claimWish(input: {wishId: $id}) { wish { id status } } }`,
      variables: { id: target.id },
    });
    if (claim.data.claimWish.wish.status !== 'CLAIMED') {
      throw new Error(`claim: ${JSON.stringify(claim)}`);
    }
    const event = await received;
    if (event.kind !== 'CLAIMED' || event.wish.status !== 'CLAIMED') {
      throw new Error(`event: ${JSON.stringify(event)}`);
    }
    return { pages: [p1.nodes.length, p2.nodes.length], total: p1.totalCount, event };
  } finally {
    client.stop();
    await ws.dispose();
  }
});

await step('sse', async () => {
  const login = await post(
    'mutation FrontendSseLogin($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }',
    { u: 'member1', p: 'lianxin-demo' },
  );
  const token = login?.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(login)}`);
  const mine = await post(
    'query FrontendMine { wishes(claimedByMe: true, status: CLAIMED, first: 1) { nodes { id } } }',
    {},
    token,
  );
  const target = mine?.data?.wishes?.nodes?.[0];
  if (!target) throw new Error(`no claimed wish to release: ${JSON.stringify(mine)}`);
  const client = createSseClient({
    url: `${endpoint}/stream`,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  try {
    const received = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SSE event within 20 s')), 20000);
      client.subscribe(
        {
          query: 'subscription FrontendSseWishEvents { wishEvents(communityId: "1") { cursor kind wish { id status } } }',
        },
        {
          next: (r) => {
            if (r.errors) {
              clearTimeout(timer);
              reject(new Error(JSON.stringify(r.errors)));
              return;
            }
            const e = r.data?.wishEvents;
            if (e && e.wish.id === target.id) {
              clearTimeout(timer);
              resolve(e);
            }
          },
          error: (err) => {
            clearTimeout(timer);
            reject(err);
          },
          complete: () => {},
        },
      );
    });
    received.catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    const release = await post(
      'mutation FrontendRelease($id: ID!) { releaseWishClaim(input: {wishId: $id, reason: "临时有事"}) { wish { id status } } }',
      { id: target.id },
      token,
    );
    if (release?.data?.releaseWishClaim?.wish?.status !== 'PUBLISHED') {
      throw new Error(`release: ${JSON.stringify(release)}`);
    }
    const event = await received;
    if (event.kind !== 'RELEASED' || !/^[0-9]+$/.test(event.cursor)) {
      throw new Error(`event: ${JSON.stringify(event)}`);
    }
    return { event };
  } finally {
    client.dispose();
  }
});

await step('persisted', async () => {
  const out = process.env.LIANXIN_PERSISTED_OUT;
  if (!out) return 'skipped: LIANXIN_PERSISTED_OUT not set';
  const dir = join(root, 'docs', 'operations');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .map((f) => join(dir, f));
  const target = join(out, 'gql') + '/';
  await generate(
    {
      schema: join(root, 'schema.graphql'),
      documents: docs,
      silent: true,
      errorsOnly: true,
      generates: {
        [target]: {
          preset: 'client',
          presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' }, fragmentMasking: false },
          config: { scalars: { Date: 'string', DateTime: 'string', Upload: 'File' } },
        },
      },
    },
    true,
  );
  const manifest = JSON.parse(readFileSync(join(target, 'persisted-documents.json'), 'utf8'));
  return { documents: Object.keys(manifest).length, manifest: join(target, 'persisted-documents.json') };
});

console.log(JSON.stringify({ steps }));

// The conformance suite: drives titan-host's loopback fakes (tests/fakes/) with the official
// client libraries, so a fake can never drift from what the real client accepts. Started by
// tests/e2e/test_conformance.sh, which starts the fakes and passes their addresses and keys in the
// environment. Prints one line per failed check and "conformance: N passed, N failed".
// Usage: node run.mjs [GROUP...]   (groups: kraken, postgrest, ai; default all)
import { readFileSync } from 'node:fs';

const GROUPS = ['kraken', 'postgrest', 'ai'];
const CLIENTS = ['ccxt', '@supabase/postgrest-js', 'openai', 'groq-sdk', '@google/genai'];
const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
console.log(`conformance with Node.js ${process.version}, ${CLIENTS.map((c) => `${c} ${version(c)}`).join(', ')}`);
const wanted = process.argv.length > 2 ? process.argv.slice(2) : GROUPS;
let passed = 0;
let failed = 0;
for (const group of wanted) {
  if (!GROUPS.includes(group)) throw new Error(`unknown group ${group} (use ${GROUPS.join(', ')})`);
  const { checks } = await import(`./${group}.mjs`);
  for (const [name, check] of checks(process.env)) {
    try {
      await check();
      passed++;
      if (process.env.CONFORMANCE_VERBOSE) console.log(`ok ${group}: ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${group}: ${name}: ${e && e.message ? e.message : e}`);
    }
  }
}
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

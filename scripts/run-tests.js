// Runs every compiled test file with Node's own test runner. Node 20 cannot glob `.ts`
// files itself, so the suite is compiled by `npm run build` and found here.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function findTests(dir) {
  const found = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) found.push(...findTests(path))
    else if (name.endsWith('.test.js')) found.push(path)
  }
  return found.sort()
}

const filter = process.argv[2]
const files = findTests('dist/test').filter((f) => !filter || f.includes(filter))
if (files.length === 0) {
  console.error(`no test files found${filter ? ` matching ${filter}` : ''}`)
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)

/**
 * `npm run bench -- NAME [NAME...]`: runs the named benchmarks and prints `name value` lines.
 * Each benchmark is a module here exporting `run(): Promise<Array<readonly [string, number]>>`.
 */
const names = process.argv.slice(2)
const known = ["plan", "load", "converge", "quiet", "repo", "startup", "heal", "fleet"]
if (names.length === 0) {
  console.error(`usage: npm run bench -- NAME [NAME...]   (NAME: ${known.join(", ")})`)
  process.exit(1)
}
for (const name of names) {
  if (!known.includes(name)) {
    console.error(`unknown benchmark "${name}" (known: ${known.join(", ")})`)
    process.exit(1)
  }
  const mod = (await import(`./${name}.ts`)) as { run: () => Promise<ReadonlyArray<readonly [string, number]>> }
  for (const [key, value] of await mod.run())
    console.log(`${key} ${Number.isInteger(value) ? value : value.toFixed(2)}`)
}

import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import {
  explainConnect,
  explainDecision,
  formatConnectExplanation,
  formatExplanation,
} from '../../policy/explain.js'
import { lintPolicies } from '../../policy/lint.js'
import {
  formatPolicyTestReport,
  parsePolicyTestFile,
  runPolicyTests,
} from '../../policy/policy-test.js'
import { PolicyEngine } from '../../policy/engine.js'
import { loadConfig, type GlobalOptions } from '../context.js'
import { TollgateError } from '../../errors/tollgate-error.js'

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('explain, lint and test policies')

  policy
    .command('explain <method> <url>')
    .description(
      'show how the relay would decide METHOD URL for an agent, and which rules matched ' +
        '(CONNECT host:port for a tunnel)',
    )
    .requiredOption('-a, --agent <name>', 'the agent making the request')
    .option('--json', 'print JSON')
    .action(
      (
        method: string,
        url: string,
        options: { agent: string; json?: boolean },
        command: Command,
      ) => {
        const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
        const engine = PolicyEngine.compile(config.policies, config.agents)
        if (!config.agents.some((agent) => agent.name === options.agent)) {
          throw new TollgateError('TOLLGATE_NOT_FOUND', `no agent named ${options.agent} in config`)
        }
        if (method.toUpperCase() === 'CONNECT') {
          const tunnel = explainConnect(engine, config, options.agent, url)
          console.log(
            options.json ? JSON.stringify(tunnel, null, 2) : formatConnectExplanation(tunnel),
          )
          return
        }
        const explanation = explainDecision(engine, config, options.agent, method, url)
        console.log(
          options.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation),
        )
      },
    )

  policy
    .command('lint')
    .description('flag over-broad, shadowed and unused rules; exits 1 on errors')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
      const findings = lintPolicies(config)
      if (options.json) console.log(JSON.stringify(findings, null, 2))
      for (const f of options.json ? [] : findings) {
        const where = [f.policy, f.rule].filter(Boolean).join('/') || f.agent || '-'
        console.log(`${f.severity}\t${f.code}\t${where}\t${f.message}`)
      }
      if (!options.json) console.log(`${findings.length} finding(s)`)
      if (findings.some((f) => f.severity === 'error')) process.exitCode = 1
    })

  policy
    .command('test <file>')
    .description('run a table of expected decisions (for CI of policies); exits 1 on failure')
    .action((file: string, _options: unknown, command: Command) => {
      const { config } = loadConfig(command.optsWithGlobals<GlobalOptions>())
      const engine = PolicyEngine.compile(config.policies, config.agents)
      const cases = parsePolicyTestFile(readFileSync(file, 'utf8'), file)
      const report = runPolicyTests(engine, cases)
      console.log(formatPolicyTestReport(report))
      if (report.failed > 0) process.exitCode = 1
    })
}

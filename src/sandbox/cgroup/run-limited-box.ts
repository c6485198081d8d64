import { bwrapCommand } from '../box-command.js'
import { runBox, type BoxIo } from '../box-process.js'
import type { SandboxLimits } from '../sandbox-limits.js'
import type { BoxEnd } from '../sandbox-manager.js'
import { BoxCgroup, cgroupLauncher } from './box-cgroup.js'

/** Where the box runs: directly (rlimits), or in a new cgroup under `parentDir` (cgroup2). */
export interface BoxPlacement {
  sandboxId: string
  limits: SandboxLimits
  /** Our own cgroup, with the controllers enabled for children; null under rlimit. */
  parentDir: string | null
}

/**
 * Runs bwrap to completion like {@link runBox}, inside the box's own cgroup when there is
 * one, and says how it ended. The cgroup is removed afterwards, and a box the memory limit cut
 * short says so on stderr: an agent killed by the OOM killer otherwise only shows `128 + 9`.
 */
export async function runLimitedBox(
  bwrap: string,
  args: string[],
  io: BoxIo,
  placement: BoxPlacement,
): Promise<BoxEnd> {
  const command = bwrapCommand(bwrap, args)
  if (placement.parentDir === null) {
    return { exitStatus: await runBox(command, io), oomKills: null }
  }

  const cgroup = BoxCgroup.create(placement.parentDir, placement.sandboxId, placement.limits)
  let exitStatus = 0
  let oomKills: number | null = null
  try {
    exitStatus = await runBox(cgroupLauncher(cgroup.procsFile, command.file, command.args), io)
  } finally {
    const outcome = await cgroup.finish()
    oomKills = outcome.oomKills
    reportOutcome(outcome, cgroup.dir)
  }
  return { exitStatus, oomKills }
}

function reportOutcome(outcome: { oomKills: number; removed: boolean }, dir: string): void {
  if (outcome.oomKills > 0) {
    const count = outcome.oomKills
    process.stderr.write(`tollgate: the sandbox's memory limit killed ${count} process(es)\n`)
  }
  if (!outcome.removed) process.stderr.write(`tollgate: could not remove the cgroup ${dir}\n`)
}

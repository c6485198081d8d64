import { INFO_CHILD_FD } from './box-info.js'

/** The fd number bwrap finds the seccomp program on: the first slot after stdio. */
export const SECCOMP_CHILD_FD = 3

/** A program and its arguments: bwrap, or what starts it (a cgroup launcher, script(1)). */
export interface BoxCommand {
  file: string
  args: string[]
}

/**
 * bwrap with `args`, told to write its info JSON to fd 4: the host PID of the box's first
 * process, which `tollgate run` needs to pass signals to the agent.
 */
export function bwrapCommand(bwrap: string, args: string[]): BoxCommand {
  return { file: bwrap, args: ['--info-fd', String(INFO_CHILD_FD), ...args] }
}

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import type { RateLimitConfig, TollgateConfig } from '../../../../src/config/types.js'
import { AgentRateLimiter } from '../../../../src/relay/limits/rate-limiter.js'

/** Just enough configuration for the limiter: the server's rate and the agents' own. */
function configWith(server: RateLimitConfig | null, own: Record<string, RateLimitConfig> = {}) {
  const agents = ['bot', 'other', ...Object.keys(own)].map((name) => ({
    name,
    ...(own[name] ? { rate: own[name] } : {}),
  }))
  return { server: { limits: { rate: server } }, agents } as unknown as TollgateConfig
}

/** A limiter on a clock the test moves by hand. */
function limiterFor(initial: TollgateConfig) {
  let config = initial
  let now = 1_000_000
  const limiter = new AgentRateLimiter(
    () => config,
    () => now,
  )
  return {
    take: (agent: string) => limiter.take(agent),
    advance: (ms: number) => {
      now += ms
    },
    reload: (next: TollgateConfig) => {
      config = next
    },
  }
}

void describe('AgentRateLimiter', () => {
  void test('a burst passes, the next request waits for the refill', () => {
    const rl = limiterFor(configWith({ requestsPerSecond: 2, burst: 3 }))

    assert.deepEqual([rl.take('bot'), rl.take('bot'), rl.take('bot')], [0, 0, 0])
    assert.equal(rl.take('bot'), 1, 'Retry-After in whole seconds, at least 1')
    rl.advance(499)
    assert.notEqual(rl.take('bot'), 0, 'not yet a whole token')
    rl.advance(501)
    assert.equal(rl.take('bot'), 0)
  })

  void test('Retry-After says how long until one request would pass', () => {
    const rl = limiterFor(configWith({ requestsPerSecond: 0.1, burst: 1 }))
    assert.equal(rl.take('bot'), 0)
    assert.equal(rl.take('bot'), 10)
    rl.advance(4_000)
    assert.equal(rl.take('bot'), 6)
  })

  void test('a quiet spell refills no more than the burst', () => {
    const rl = limiterFor(configWith({ requestsPerSecond: 100, burst: 2 }))
    rl.advance(3_600_000)
    assert.deepEqual([rl.take('bot'), rl.take('bot')], [0, 0])
    assert.notEqual(rl.take('bot'), 0)
  })

  void test('agents have their own buckets, and an own rate wins over the server rate', () => {
    const rl = limiterFor(
      configWith({ requestsPerSecond: 1, burst: 1 }, { fast: { requestsPerSecond: 1, burst: 5 } }),
    )
    assert.equal(rl.take('bot'), 0)
    assert.notEqual(rl.take('bot'), 0)
    assert.equal(rl.take('other'), 0)
    const fast = Array.from({ length: 5 }, () => rl.take('fast'))
    assert.deepEqual(fast, [0, 0, 0, 0, 0])
  })

  void test('without a rate nothing is limited', () => {
    const rl = limiterFor(configWith(null))
    for (let i = 0; i < 1000; i++) assert.equal(rl.take('bot'), 0)
  })

  void test('a reload applies the new rate but hands out no fresh burst', () => {
    const rl = limiterFor(configWith({ requestsPerSecond: 1, burst: 2 }))
    rl.take('bot')
    rl.take('bot')
    rl.reload(configWith({ requestsPerSecond: 1, burst: 10 }))
    assert.notEqual(rl.take('bot'), 0, 'the spent tokens stay spent')

    rl.reload(configWith(null))
    assert.equal(rl.take('bot'), 0, 'a removed limit applies at once')
  })
})

import { describe, expect, it } from '@jest/globals'
import { RateGate } from '../src/http/rate-gate.js'
import { FakeClock } from './helpers/fake-clock.js'

describe('the rate gate', () => {
  it('is open until a hold, and a later shorter hold never shortens it', async () => {
    const clock = new FakeClock()
    const gate = new RateGate(clock)
    expect(gate.heldForMs()).toBe(0)
    await expect(gate.pass(clock.now())).resolves.toBe(true)
    expect(clock.sleeps).toEqual([])
    gate.holdFor(5000)
    gate.holdFor(1000)
    expect(gate.heldForMs()).toBe(5000)
    await expect(gate.pass(clock.now() + 5000)).resolves.toBe(true)
    expect(clock.sleeps).toEqual([5000])
    expect(gate.heldForMs()).toBe(0)
  })

  it('does not wait for a hold that ends past the deadline', async () => {
    const clock = new FakeClock()
    const gate = new RateGate(clock)
    gate.holdFor(5000)
    await expect(gate.pass(clock.now() + 4999)).resolves.toBe(false)
    expect(clock.sleeps).toEqual([])
  })

  it('lets nobody through once cancelled', async () => {
    const clock = new FakeClock()
    const gate = new RateGate(clock)
    const controller = new AbortController()
    controller.abort()
    await expect(gate.pass(Infinity, controller.signal)).resolves.toBe(false)
    gate.holdFor(1000)
    await expect(gate.pass(Infinity, controller.signal)).resolves.toBe(false)
    expect(clock.sleeps).toEqual([])
  })
})

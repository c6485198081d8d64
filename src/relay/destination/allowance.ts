import type { AddressClass } from './classify.js'
import {
  addressKey,
  cidrContains,
  isSingleAddress,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
} from './ip-address.js'

/**
 * The non-public addresses one allow rule lets the relay connect to. Two sources:
 * - the rule's `addresses` ranges, for every host the rule matches (an internal name whose
 *   DNS answer is private); cloud metadata addresses only when listed as an exact /32 or /128;
 * - the rule's IP-literal hosts, each allowing exactly itself, and only when the request names
 *   that literal: `hosts: ["127.0.0.1", "api.example.com"]` must not let api.example.com
 *   resolve to 127.0.0.1.
 * Public addresses need no allowance; policy has already decided on them.
 */
export class AddressAllowance {
  /** Allows nothing beyond public addresses: what a rule without either source gets. */
  static readonly NONE = new AddressAllowance([], [])

  /** Equal for allowances that allow the same; connection pools are shared by key. */
  readonly key: string
  readonly #ranges: readonly Cidr[]
  readonly #exact: ReadonlySet<string>
  readonly #literals: ReadonlySet<string>

  private constructor(ranges: readonly Cidr[], literals: readonly IpAddress[]) {
    this.#ranges = ranges
    this.#exact = new Set(ranges.filter(isSingleAddress).map(rangeAddressKey))
    this.#literals = new Set(literals.map(addressKey))
    const rangeKeys = ranges.map((r) => `${rangeAddressKey(r)}/${r.bits}`)
    this.key = [...rangeKeys.sort(), '|', ...[...this.#literals].sort()].join(' ')
  }

  /**
   * The allowance of a rule, or null when it allows nothing beyond public addresses. Invalid
   * ranges are skipped: configuration loading has reported them already.
   */
  static fromRule(hosts: readonly string[], addresses: readonly string[]): AddressAllowance | null {
    const ranges = addresses.map(parseCidr).filter((r): r is Cidr => r !== null)
    const literals = hosts.map(parseIp).filter((ip): ip is IpAddress => ip !== null)
    if (ranges.length === 0 && literals.length === 0) return null
    return new AddressAllowance(ranges, literals)
  }

  /**
   * Whether a non-public address (or one of the relay's own) may be connected to.
   * `viaLiteral` says the request named this address itself rather than a host name.
   */
  allows(ip: IpAddress, cls: AddressClass, viaLiteral: boolean): boolean {
    if (viaLiteral && this.#literals.has(addressKey(ip))) return true

    const embedded = cls.embedded === undefined ? null : parseIp(cls.embedded)
    const candidates = embedded === null ? [ip] : [ip, embedded]
    if (cls.kind === 'metadata') {
      return candidates.some((c) => this.#exact.has(addressKey(c)))
    }
    return candidates.some((c) => this.#ranges.some((range) => cidrContains(range, c)))
  }
}

function rangeAddressKey(range: Cidr): string {
  return addressKey({ family: range.family, value: range.base })
}

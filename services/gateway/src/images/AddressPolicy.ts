import ipaddr from "ipaddr.js"

/**
 * Which addresses the gateway may fetch an image from: public unicast only — not loopback, private, link-local
 * (cloud metadata), carrier-grade NAT, multicast, unspecified or reserved — unless an allowed network covers it.
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export interface AddressPolicy {
  readonly allows: (address: string) => boolean
}

const normalise = (address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined => {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address
  if (!ipaddr.isValid(bare)) return undefined
  const parsed = ipaddr.parse(bare)
  return parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address()
    : parsed
}

/** `allowed`: CIDRs or single addresses that may be fetched although they are not public (an internal image store). */
export const makeAddressPolicy = (allowed: ReadonlyArray<string>): AddressPolicy => {
  const networks = allowed.map((entry) => {
    const [address, bits] = entry.includes("/") ? entry.split("/") : [entry, undefined]
    const parsed = normalise(address ?? "")
    if (parsed === undefined) throw new Error(`not an address or network: ${entry}`)
    return [parsed, bits === undefined ? (parsed.kind() === "ipv4" ? 32 : 128) : Number(bits)] as const
  })
  return {
    allows: (address) => {
      const parsed = normalise(address)
      if (parsed === undefined) return false
      if (networks.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits))) {
        return true
      }
      return parsed.range() === "unicast"
    },
  }
}

/** Whether `text` is an address or network the policy can take (for checking the settings). */
export const isAddressOrNetwork = (text: string): boolean => {
  const [address, bits] = text.includes("/") ? text.split("/") : [text, undefined]
  const parsed = normalise(address ?? "")
  if (parsed === undefined) return false
  if (bits === undefined) return true
  const n = Number(bits)
  return Number.isInteger(n) && n >= 0 && n <= (parsed.kind() === "ipv4" ? 32 : 128)
}

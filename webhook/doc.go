// Package webhook signs and sends billkey's webhooks, and verifies them on the
// receiving side.
//
// # Body
//
// billkey posts exactly what i'mport's notification posts: a JSON
// object {"imp_uid", "merchant_uid", "status"} with Content-Type
// application/json. Nothing else is added to the body, so existing receivers
// keep working.
//
// # Signature
//
// On top of i'mport's unsigned body billkey adds the Standard Webhooks
// headers (https://www.standardwebhooks.com):
//
//	webhook-id:        evt_<event id>   (stable for an event: resends reuse it)
//	webhook-timestamp: <unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256> [v1,<...> ...]
//
// The HMAC key is the base64-decoded part of the merchant's secret after its
// "whsec_" prefix; the signed content is id + "." + timestamp + "." + body.
// While a rotated-out secret is still valid, the header carries one signature
// per valid secret, separated by spaces; a receiver accepts the request when
// any of them matches a secret it knows. Receivers should also refuse
// timestamps too far from their clock (Verify uses a tolerance) and
// deduplicate by webhook-id: delivery is at least once.
//
// # Outbound safety
//
// Sender dials through a Guard that checks the IP address actually dialed
// (in net.Dialer.Control, after name resolution), so a merchant URL cannot
// make billkey reach loopback, private, link-local, multicast or unspecified
// addresses, or any other block of IANA's special-purpose address
// registries, unless the configuration allows them; redirects are not
// followed and proxies from the environment are not used.
package webhook

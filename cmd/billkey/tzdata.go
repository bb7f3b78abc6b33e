package main

// The time zone database is embedded (about 450 kB), so Asia/Seoul (KST)
// resolves in a scratch or distroless image and on hosts without
// /usr/share/zoneinfo. billkey's own KST arithmetic uses a fixed +09:00
// zone; this covers libraries and operators' TZ settings.
import _ "time/tzdata"

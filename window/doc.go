// Package window is billkey's browser side: iamport.js (an IMP SDK written
// for billkey, embedded), the payment-window endpoints that issue a billing
// key through KG INICIS's window, and the demo shop at /demo. Every route is
// public (no token) and listed in internal/cli's route table; the use cases
// live in gateway (window.go).
//
// # SDK ↔ server protocol
//
// iamport.js is served at /js/iamport.js, /v1/iamport.js,
// /js/iamport.payment-1.2.0.js and /js/iamport.payment-1.1.0.js to
// -1.1.8.js (one file, no jQuery). It takes billkey's origin from its own
// script src, so a page written for i'mport works once the src points at
// billkey.
//
//  1. IMP.request_pay(params, cb) submits a hidden form, POST /window/open,
//     with imp_code, tier, params (JSON: the parameters plus request_id,
//     merchant_uid default "nobody_<ms>", pay_method default "card",
//     m_redirect_url resolved against the page's address), notice_url once
//     per URL, device ("pc" | "mobile", by user agent as i'mport detects it,
//     plus iPadOS), delivery ("message" | "redirect"), origin
//     (location.origin) and sdk. PC: into the iframe of i'mport's dialog
//     (div.imp-dialog: fixed, full viewport, transparent, z-index 99999),
//     where INICIS draws its own window. Redirect: the page itself.
//     Delivery is redirect when m_redirect_url is given and either popup ===
//     false, or the device is mobile and popup !== true, or there is no
//     callback.
//  2. billkey records the opener's origin (the Origin header; the origin
//     field only when the browser sent "null"), resolves merchant and
//     channel, creates the issuance payment and the attempt, and answers
//     with a page that (message delivery) posts the JSON string
//     {from:"billkey", action:"opened", data:{request_id, imp_uid,
//     merchant_uid, close_url}} to window.parent with targetOrigin = that
//     origin, then opens INICIS's window: INIStdPay.pay(form) with
//     BILLAUTH(Card) on PC and phones alike (a channel set to refuse phones
//     refuses them instead). INICIS's
//     returnUrl is /window/return/{token}, its closeUrl /window/close/{token}.
//  3. INICIS posts its result to the returnUrl; billkey approves server to
//     server, stores the key and answers with a page that posts
//     {from:"billkey", action:"done", data: rsp} to the opener origin (or
//     hands it to billkey's own page above it, which relays it, when INICIS
//     framed the result), or with a 303 to m_redirect_url?imp_uid=&
//     merchant_uid=&imp_success=true|false[&error_code=&error_msg=].
//  4. The SDK accepts a message only when event.origin is billkey's origin,
//     event.source is its iframe and data.request_id is the open request's;
//     it calls the callback with data (without request_id; custom_data as
//     the page gave it) and hides the dialog. Its close button loads
//     close_url in the iframe (the result then arrives as "done"); a second
//     click closes at once with a WINDOW_CLOSED failure. IMP.close() and a
//     second request_pay hide the open window without a callback and post
//     to close_url in the background (navigator.sendBeacon).
//
// Requests refused before an attempt exists (unknown imp code or
// channelKey, missing customer_uid, bad parameters) get the same delivery
// with imp_uid null, error_code "F400" and error_msg saying why. Every
// failed rsp carries an error_code (see gateway's ErrCode constants).
//
// # Card-update pages
//
// GET /card-update/{token} is a subscription's hosted card-update page
// (gateway's CreateCardUpdateLink makes the link): Korean, it shows the
// merchant, the masked current card and the overdue or next charge, and its
// button calls IMP.request_pay from billkey's own iamport.js with the
// link's token as billkey_card_update, which binds the window to the link
// (customer_uid, channel and buyer fields come from the link's customer).
// After success the page goes to /card-update/{token}/result (the new card
// and the retried charge's outcome, refreshing while it runs). A used,
// expired or unknown link, or one of an ended subscription, gets a refusal
// page (410, or 404 when unknown). The pages load scripts only from
// billkey, send no referrer (the token is in the path), and are never
// cached or framed.
//
// # Security
//
// The attempt token (256 random bits) is the only capability in INICIS's
// URLs; billkey stores its SHA-256. It binds the return post to one
// merchant, channel, INICIS order id (the imp_uid) and customer_uid, expires
// after 30 minutes, and the first post consumes it: a replayed post gets the
// recorded result, never a second approval. Window pages carry a nonce-based
// Content-Security-Policy whose frame-ancestors is the opener's origin
// (message delivery) or 'none' (redirect), no-store caching and nosniff; the
// result page adds Referrer-Policy no-referrer. Data reaches scripts only as
// JSON in <script type="application/json"> blocks (html/template escaping).
// The billing key never appears in any page, script, message or URL billkey
// produces, nor in INICIS's: the browser only carries INIStdPay's authToken,
// which billkey redeems server to server, so a forged return post stores
// nothing. (INICIS's legacy INILite mobile window posts the key itself
// through the browser, unsigned; billkey does not use it.)
//
// Every text parameter is checked byte by byte (valid UTF-8, no control
// characters) before anything is written; a refused redirect-mode request
// goes to m_redirect_url only for a known merchant and an http(s) URL; error
// pages are never framable; a window notice_url must name a host the
// merchant allowed; request logs show attempt tokens as {token}.
package window

// Package wechat is the channel adapter for a WeChat official account
// (微信公众号): it receives the account's server callbacks and sends the RM's
// replies through the customer-service message API.
//
// Inbound (WeChat "Access overview", "Receiving standard messages",
// "Receiving event pushes", "Message encryption and decryption"):
//
//   - GET /webhooks/wechat[/{account}] answers WeChat's URL verification:
//     signature = SHA-1 over the sorted token, timestamp and nonce, compared
//     in constant time; the body is echostr.
//   - POST /webhooks/wechat[/{account}] takes a callback in plain mode, in
//     safe mode (encrypt_type=aes, msg_signature over token, timestamp, nonce
//     and Encrypt; AES-256-CBC with the EncodingAESKey) or in compatible
//     mode (plain fields and Encrypt in one body). The callback becomes a
//     conversation.Incoming handed to the Sink; only once the Sink has stored
//     it does the handler answer "success" (or a passive reply), within
//     WeChat's 5-second limit. When the Sink cannot store it the handler
//     answers 503 and WeChat retries (three times); the Sink de-duplicates on
//     Incoming.ProviderID.
//
// Outbound: SendText and SendImage use the customer-service message API
// (cgi-bin/message/custom/send, images through cgi-bin/media/upload) inside
// the user's service window, which Windows tracks across instances;
// SendTemplate sends the account's configured template message
// (cgi-bin/message/template/send), which needs no window. The access token
// is shared by every instance through a TokenStore (RedisCache on Redis) and
// fetched from the stable-token endpoint (cgi-bin/stable_token) by the one
// instance that holds the refresh lock.
//
// Only github.com/silenceper/wechat/v2/util is linked into the binary (SHA-1
// signature, AES message encryption, errcode shape): silenceper's cache,
// credential and officialaccount packages import github.com/go-redis/redis/v8
// and a global logger, so this package declares its own small message types
// (checked against silenceper's in tests) and implements silenceper's
// cache.Cache interface structurally on a go-redis v9 client.
package wechat

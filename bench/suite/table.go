package main

// redisURLEnv points the Redis benchmarks at the private redis-server.
const redisURLEnv = "AIRBRANCH_TEST_REDIS_URL={{redis}}"

// The baselines on the private Redis, with one connection.
var (
	setBaseline     = redisBench{Label: "redis-benchmark SET", Test: "set", N: 100000}
	evalshaBaseline = redisBench{Label: "redis-benchmark EVALSHA", Test: "evalsha", N: 100000}
)

// sections is the table of benchmarks: every benchmark of the project,
// in the order of BENCHMARKS.md, each section's steps in the order one
// round runs them (baselines around ours). The template refers to the
// figures by benchmark name and unit, to sections by ID.
func sections() []section {
	return []section{
		{
			ID: "store", Title: "Store", Redis: true,
			Steps: []step{
				setBaseline,
				goBench{Pkg: "./gateway/state", Bench: "^BenchmarkStore(Serial)?$", Quick: "2000x", Env: []string{redisURLEnv}},
				setBaseline,
			},
		},
		{
			ID: "commit", Title: "Routing commit", Redis: true,
			Steps: []step{
				setBaseline, evalshaBaseline,
				goBench{Pkg: "./gateway/state", Bench: "^BenchmarkCommitClaim(Parallel)?$", Quick: "1000x", Env: []string{redisURLEnv}},
				setBaseline, evalshaBaseline,
			},
		},
		{
			ID: "decisions", Title: "Routing decisions", Redis: true,
			Steps: []step{
				setBaseline,
				goBench{Pkg: "./gateway/router", Bench: "^BenchmarkEvaluate$", Benchtime: "2x", Quick: "1x", Env: []string{redisURLEnv}},
				goBench{Pkg: "./routing", Bench: "^BenchmarkDecide$", Quick: "200ms"},
				goBench{Pkg: "./gateway/state", Bench: "^BenchmarkDecisionRecords$", Benchtime: "500x", Quick: "50x", Env: []string{redisURLEnv}},
				goBench{Pkg: "./routing", Bench: "^BenchmarkDecision(Pack|JSON)$", Quick: "100ms", Benchmem: true},
				setBaseline,
			},
		},
		{
			ID: "desk", Title: "RM desk",
			Steps: []step{
				goBench{Pkg: "./gateway/desk", Bench: "^Benchmark(IdleDeskConnections|OfferToDesk)$", Benchtime: "1x"},
			},
		},
		{
			ID: "wechat", Title: "WeChat callbacks",
			Steps: []step{
				goBench{Pkg: "./gateway", Bench: "^BenchmarkWeChatCallbacks$", Benchtime: "1x"},
			},
		},
		{
			ID: "webchat", Title: "Web chat to RM desk",
			Steps: []step{
				goBench{Pkg: "./gateway", Bench: "^BenchmarkWebChatToDesk$", Benchtime: "1x"},
			},
		},
		{
			ID: "sms", Title: "SMS webhooks",
			Steps: []step{
				goBench{Pkg: "./gateway", Bench: "^BenchmarkSMSWebhooks$|^BenchmarkSMSWebhookToDesk$", Benchtime: "1x"},
				goBench{Pkg: "./channels/sms/twilio", Bench: "^Benchmark(InboundWebhook|BareHandler)$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./channels/identity", Bench: "^BenchmarkPhoneCache$", Quick: "100ms"},
			},
		},
		{
			ID: "smpp", Title: "SMPP submits",
			Steps: []step{
				goBench{Pkg: "./channels/sms/smpp", Bench: "^BenchmarkSubmitWindow$", Benchtime: "1x"},
			},
		},
		{
			ID: "video", Title: "Video", Optional: []string{"janus"},
			Steps: []step{
				goBench{Pkg: "./channels/video", Bench: "^BenchmarkVideoVersusJanus$", Benchtime: "1x"},
			},
		},
		{
			ID: "voice", Title: "Voice", Needs: []string{"sipp", "kamailio", "rtpengine"},
			Steps: []step{voiceBench{}},
		},
		{
			ID: "micro", Title: "Other benchmarks",
			Steps: []step{
				goBench{Pkg: "./routing", Bench: "^Benchmark(Assign|NewSnapshot|Order)$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./channels/wechat", Bench: "^BenchmarkCallback$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./channels/webchat", Bench: "^BenchmarkMessageAck$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./channels/sms/smpp", Bench: "^BenchmarkSubmit$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./media", Bench: "^BenchmarkRelay$", Quick: "100ms", Benchmem: true},
				goBench{Pkg: "./media/sfu", Bench: "^BenchmarkForward$", Quick: "100ms", Benchmem: true},
			},
		},
	}
}

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
	"github.com/airbranch/airbranch/configs"
)

// The suite's secrets and provider accounts. The WeChat account's
// credentials and original id are those of the official account message
// encryption sample (Tencent's WXBizMsgCrypt Sample.py, see
// testdata/README.md); the others are the suite's own.
const (
	jwtSecret        = "e2e-jwt-secret-0123456789abcdef-0123456789"
	webchatSecret    = "e2e-webchat-token-secret-0123456789abcdef"
	anonymousSecret  = "e2e-webchat-anonymous-secret-0123456789ab"
	videoSecret      = "e2e-video-token-secret-0123456789abcdef-01"
	nonceSecret      = "e2e-sip-nonce-secret-0123456789"
	twilioSID        = "AC00000000000000000000000000e2e001"
	twilioToken      = "e2e-twilio-auth-token-0001"
	twilioAccount    = "+85230001234"
	smppSystemID     = "airbranch"
	smppPassword     = "e2epass1"
	smppAccount      = "+85230009999"
	wechatAppID      = "wx2c2769f8efd9abc2"
	wechatSecret     = "e2e-wechat-app-secret"
	wechatToken      = "spamtest"
	wechatAESKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	wechatOriginalID = "gh_10f6c3c3ac5a"
	bankNumber       = "+85221234567"
)

// phoneRMs are the RMs whose desk phones are configured (sip.rm_phones);
// each one's password is phonePassword(rm).
var phoneRMs = []string{"rm-pb-01", "rm-pb-02", "rm-pb-03", "rm-ms-01", "rm-af-01"}

// phonePassword is an RM phone's SIP digest password.
func phonePassword(rm string) string { return "e2e-phone-" + rm }

// cluster is everything the suite runs: its Redis, the providers' side
// (Twilio API, WeChat API, SMSC), two gateway instances and the load
// balancer in front of them.
type cluster struct {
	dir    string
	bin    string
	redis  *redisServer
	twilio *twilioAPI
	wechat *wechatAPI
	smsc   *smsctest.Server
	a, b   *instance
	lb     *balancer
}

// instances returns both instances.
func (c *cluster) instances() []*instance { return []*instance{c.a, c.b} }

// URL is the cluster's public base URL (the load balancer).
func (c *cluster) URL() string { return c.lb.URL() }

// configTemplate is an instance's configuration; the routing section is
// the shipped default (the demo's policies).
var configTemplate = template.Must(template.New("airbranch.yaml").Parse(`# end-to-end suite, instance {{.Name}}
instance_id: {{.Name}}
log: {level: info, format: json}
http:
  addr: "127.0.0.1:{{.HTTPPort}}"
  public_url: "{{.Public}}"
  drain_delay: 0s
  shutdown_grace: 5s
redis:
  url: "{{.Redis}}"
  key_prefix: "{e2e}:"
directory:
  file: directory.yaml
sms:
  twilio:
    accounts: [{name: "{{.TwilioAccount}}"}]
    public_base_url: "{{.Public}}"
    api_base_url: "{{.TwilioAPI}}"
  smpp:
    addr: "{{.SMSC}}"
    system_id: {{.SMPPSystemID}}
    account: "{{.SMPPAccount}}"
    enquire_link: 5s
    read_timeout: 15s
    rebind_min: 200ms
    rebind_max: 2s
wechat:
  accounts: [{original_id: {{.WeChatOriginalID}}}]
  api_base_url: "{{.WeChatAPI}}"
sip:
  udp_addr: "127.0.0.1:{{.SIPPort}}"
  public_host: 127.0.0.1
  media_ip: 127.0.0.1
  public_media_ip: 127.0.0.1
  rtp_port_min: {{.RTPMin}}
  rtp_port_max: {{.RTPMax}}
  channel_account: "{{.BankNumber}}"
  trunks: [{name: loopback, sources: ["127.0.0.0/8"], trust_identity: true}]
  rm_phones:
{{- range .PhoneRMs}}
    - {rm: {{.}}, username: {{.}}}
{{- end}}
  announce_every: 5s
  rm_ring_timeout: 10s
  rtp_timeout: 0s
webchat:
  enabled: true
  anonymous: true
video:
  enabled: true
  udp_addr: "127.0.0.1:{{.VideoPort}}"
  public_ip: 127.0.0.1
`))

// instanceValues fills configTemplate.
type instanceValues struct {
	Name, Public, Redis             string
	HTTPPort, SIPPort, VideoPort    int
	RTPMin, RTPMax                  int
	TwilioAccount, TwilioAPI        string
	SMSC, SMPPSystemID, SMPPAccount string
	WeChatOriginalID, WeChatAPI     string
	BankNumber                      string
	PhoneRMs                        []string
}

// instanceEnv is every instance's secrets, from the environment as in
// production.
func instanceEnv() []string {
	env := []string{
		"AIRBRANCH_JWT_SECRET=" + jwtSecret,
		"AIRBRANCH_WEBCHAT_TOKEN_SECRET=" + webchatSecret,
		"AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET=" + anonymousSecret,
		"AIRBRANCH_VIDEO_TOKEN_SECRET=" + videoSecret,
		"AIRBRANCH_SIP_NONCE_SECRET=" + nonceSecret,
		"AIRBRANCH_TWILIO_ACCOUNT_SID=" + twilioSID,
		"AIRBRANCH_TWILIO_AUTH_TOKEN=" + twilioToken,
		"AIRBRANCH_SMPP_PASSWORD=" + smppPassword,
		"AIRBRANCH_WECHAT_APPID=" + wechatAppID,
		"AIRBRANCH_WECHAT_SECRET=" + wechatSecret,
		"AIRBRANCH_WECHAT_TOKEN=" + wechatToken,
		"AIRBRANCH_WECHAT_AES_KEY=" + wechatAESKey,
	}
	for _, rm := range phoneRMs {
		env = append(env, "AIRBRANCH_SIP_PHONE_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(rm))+"_PASSWORD="+phonePassword(rm))
	}
	return env
}

// roundTheClockDirectory returns the demo directory with every team open
// every day around the clock and no holidays, so that the suite's
// expectations do not depend on the hour it runs at; teams, RMs,
// customers, deputies and skills are the demo's.
func roundTheClockDirectory() ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(configs.DemoDirectoryYAML(), &doc); err != nil {
		return nil, err
	}
	var always yaml.Node
	if err := yaml.Unmarshal([]byte(`[{days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "24:00"}]`), &always); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "teams" {
			continue
		}
		for _, team := range root.Content[i+1].Content {
			var kept []*yaml.Node
			for j := 0; j+1 < len(team.Content); j += 2 {
				switch team.Content[j].Value {
				case "holidays":
					continue
				case "hours":
					kept = append(kept, team.Content[j], always.Content[0])
				default:
					kept = append(kept, team.Content[j], team.Content[j+1])
				}
			}
			team.Content = kept
		}
	}
	var out bytes.Buffer
	out.WriteString("# The demo directory (configs/demo/directory.yaml) with every team open around the clock.\n")
	enc := yaml.NewEncoder(&out)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// startCluster builds the binary into dir and starts everything.
func startCluster(dir string) (c *cluster, err error) {
	c = &cluster{dir: dir, bin: filepath.Join(dir, "airbranch")}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	build := exec.Command("go", "build", "-o", c.bin, "./cmd/airbranch")
	build.Dir = ".."
	if os.Getenv("AIRBRANCH_E2E_RACE") == "1" {
		build.Args = append(build.Args[:2], append([]string{"-race"}, build.Args[2:]...)...)
	}
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not installed (apt-get install redis-server)")
	}
	if c.redis, err = startRedis(redisBin, dir); err != nil {
		return nil, err
	}
	if c.twilio, err = startTwilioAPI(twilioSID, twilioToken); err != nil {
		return nil, err
	}
	if c.wechat, err = startWeChatAPI(wechatAppID, wechatSecret); err != nil {
		return nil, err
	}
	if c.smsc, err = smsctest.New(smsctest.Config{SystemID: smppSystemID, Password: smppPassword}); err != nil {
		return nil, err
	}
	dirYAML, err := roundTheClockDirectory()
	if err != nil {
		return nil, err
	}
	if _, err := writeFile(dir, "directory.yaml", dirYAML); err != nil {
		return nil, err
	}
	// The balancer's port is chosen first: it is the public URL.
	c.a, c.b = &instance{name: "e2e-a"}, &instance{name: "e2e-b"}
	for _, in := range c.instances() {
		if in.httpPort, err = freeTCPPort(); err != nil {
			return nil, err
		}
	}
	if c.lb, err = startBalancer(c.a, c.b); err != nil {
		return nil, err
	}
	for i, in := range c.instances() {
		if in.sipPort, err = freeUDPTCPPort(); err != nil {
			return nil, err
		}
		videoPort, err := freeUDPTCPPort()
		if err != nil {
			return nil, err
		}
		v := instanceValues{Name: in.name, Public: c.lb.URL(), Redis: c.redis.URL(),
			HTTPPort: in.httpPort, SIPPort: in.sipPort, VideoPort: videoPort,
			RTPMin: 30000 + 2000*i, RTPMax: 30000 + 2000*i + 1999,
			TwilioAccount: twilioAccount, TwilioAPI: c.twilio.URL(),
			SMSC: c.smsc.Addr(), SMPPSystemID: smppSystemID, SMPPAccount: smppAccount,
			WeChatOriginalID: wechatOriginalID, WeChatAPI: c.wechat.URL(), BankNumber: bankNumber, PhoneRMs: phoneRMs}
		var b bytes.Buffer
		if err := configTemplate.Execute(&b, v); err != nil {
			return nil, err
		}
		if in.config, err = writeFile(dir, in.name+".yaml", b.Bytes()); err != nil {
			return nil, err
		}
		in.bin, in.env, in.logPath = c.bin, instanceEnv(), filepath.Join(dir, in.name+".log")
	}
	check := exec.Command(c.bin, "check-config", "-config", c.a.config)
	check.Env = append(os.Environ(), c.a.env...)
	if out, err := check.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("check-config: %v\n%s", err, out)
	}
	for _, in := range c.instances() {
		if err := in.Start(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops everything startCluster started.
func (c *cluster) Close() {
	for _, in := range []*instance{c.a, c.b} {
		if in != nil {
			in.Stop()
		}
	}
	if c.lb != nil {
		c.lb.Close()
	}
	if c.smsc != nil {
		_ = c.smsc.Close()
	}
	if c.twilio != nil {
		_ = c.twilio.srv.Close()
	}
	if c.wechat != nil {
		_ = c.wechat.srv.Close()
	}
	if c.redis != nil {
		_ = c.redis.Stop()
	}
}

// token mints a bearer token with the binary (`airbranch token`).
func (c *cluster) token(role, subject string, extra ...string) (string, error) {
	args := append([]string{"token", "-config", c.a.config, "-role", role, "-subject", subject}, extra...)
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), c.a.env...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("airbranch token: %v: %s", err, ee.Stderr)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

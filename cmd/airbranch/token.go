package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway"
	"github.com/airbranch/airbranch/gateway/auth"
)

// token prints an HS256 bearer token signed with AIRBRANCH_JWT_SECRET (or
// the development secret, with a warning). For role rm the team claim is
// taken from the directory unless -team is given.
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `FILE` (for the directory and token lifetime)")
	role := fs.String("role", "", "role claim: rm, supervisor or admin")
	subject := fs.String("subject", "", "subject claim: the RM or user id, e.g. rm-pb-01")
	team := fs.String("team", "", "team claim (default for rm: the RM's team in the directory)")
	ttl := fs.Duration("ttl", 0, "token lifetime, e.g. 8h (default: auth.token_ttl)")
	if !parse(fs, args, stderr) {
		return 2
	}
	if *subject == "" || *role == "" {
		fmt.Fprintln(stderr, "airbranch token: -role and -subject are required")
		return 2
	}
	cfg, err := configs.Load(*path, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch: configuration:\n%v\n", err)
		return 2
	}
	p := auth.Principal{Subject: *subject, Role: auth.Role(*role), Team: conversation.TeamID(*team)}
	if p.Role == auth.RoleRM && p.Team == "" {
		dir, err := configs.LoadDirectory(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "airbranch token: directory: %v\n", err)
			return 2
		}
		rm, err := dir.RM(context.Background(), conversation.RMID(*subject))
		if err != nil {
			fmt.Fprintf(stderr, "airbranch token: %v (give -team, or an RM id from the directory)\n", err)
			return 2
		}
		p.Team = rm.TeamID
	}
	secret := []byte(cfg.Secrets.JWTSecret)
	if len(secret) == 0 {
		fmt.Fprintln(stderr, "airbranch token: warning: AIRBRANCH_JWT_SECRET is not set; signing with the public development secret")
		secret = []byte(gateway.DevJWTSecret)
	}
	if *ttl == 0 {
		*ttl = cfg.Auth.TokenTTL
	}
	var opts []auth.IssueOption
	if cfg.Auth.Issuer != "" {
		opts = append(opts, auth.WithIssuer(cfg.Auth.Issuer))
	}
	if cfg.Auth.Audience != "" {
		opts = append(opts, auth.WithAudience(cfg.Auth.Audience))
	}
	tok, err := auth.Issue(secret, p, *ttl, time.Now(), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "airbranch token: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

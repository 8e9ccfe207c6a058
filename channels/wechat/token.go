package wechat

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// defaultTokenPoll is how often an instance waiting for another's refresh
// looks for the new token.
const defaultTokenPoll = 50 * time.Millisecond

// tokenSource gives an account's access token, one for all instances: the
// token lives in the TokenStore; when it is missing or rejected, the
// instance that takes the refresh lock fetches a new one from the
// stable-token endpoint ("Get stable access token", POST
// cgi-bin/stable_token) and the others wait for it.
type tokenSource struct {
	appID, secret string
	api           *apiClient
	store         TokenStore
	lockTTL       time.Duration
	margin        time.Duration
	poll          time.Duration
	log           *slog.Logger
}

// stableTokenRequest is the body of cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// stableTokenAnswer is its answer: the token and its lifetime in seconds.
type stableTokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *tokenSource) key() string     { return "wechat:token:" + s.appID }
func (s *tokenSource) lockKey() string { return "wechat:token-lock:" + s.appID }

// Token returns the shared token, fetching one if there is none.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	tok, err := s.store.GetToken(ctx, s.key())
	if err != nil {
		return "", fmt.Errorf("wechat: access token: %w", err)
	}
	if tok != "" {
		return tok, nil
	}
	return s.Refresh(ctx, "")
}

// Refresh returns a token other than rejected (the one WeChat refused, ""
// when there was none): one another instance already stored, or a new one
// this instance fetches under the lock. It waits for the lock holder until
// ctx ends.
func (s *tokenSource) Refresh(ctx context.Context, rejected string) (string, error) {
	for {
		tok, err := s.store.GetToken(ctx, s.key())
		if err != nil {
			return "", fmt.Errorf("wechat: access token: %w", err)
		}
		if tok != "" && tok != rejected {
			return tok, nil
		}
		tok, fetched, err := s.fetchLocked(ctx, rejected)
		if err != nil || fetched {
			return tok, err
		}
		t := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("wechat: access token: waiting for another instance's refresh: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// fetchLocked fetches and stores a token if it can take the lock; done is
// false when another instance holds it.
func (s *tokenSource) fetchLocked(ctx context.Context, rejected string) (tok string, done bool, err error) {
	unlock, ok, err := s.store.TryLock(ctx, s.lockKey(), s.lockTTL)
	if err != nil || !ok {
		return "", false, err
	}
	defer unlock()
	// Another instance may have stored a token between our read and the lock.
	if tok, err = s.store.GetToken(ctx, s.key()); err != nil {
		return "", true, fmt.Errorf("wechat: access token: %w", err)
	}
	if tok != "" && tok != rejected {
		return tok, true, nil
	}
	ans, err := s.fetch(ctx, false)
	if err == nil && rejected != "" && ans.AccessToken == rejected {
		// WeChat still hands out the token it refused: force a new one.
		ans, err = s.fetch(ctx, true)
	}
	if err != nil {
		return "", true, fmt.Errorf("wechat: access token: %w", err)
	}
	ttl := time.Duration(ans.ExpiresIn)*time.Second - s.margin
	if ttl <= 0 {
		ttl = time.Duration(ans.ExpiresIn) * time.Second / 2
	}
	if err := s.store.SetToken(ctx, s.key(), ans.AccessToken, max(ttl, time.Second)); err != nil {
		return "", true, fmt.Errorf("wechat: access token: %w", err)
	}
	s.log.Info("wechat access token fetched", "expires_in_s", ans.ExpiresIn)
	return ans.AccessToken, true, nil
}

// fetch calls the stable-token endpoint.
func (s *tokenSource) fetch(ctx context.Context, force bool) (stableTokenAnswer, error) {
	var ans stableTokenAnswer
	err := s.api.postJSON(ctx, "/cgi-bin/stable_token", nil, stableTokenRequest{
		GrantType: "client_credential", AppID: s.appID, Secret: s.secret, ForceRefresh: force,
	}, &ans)
	if err == nil && ans.AccessToken == "" {
		err = fmt.Errorf("wechat api /cgi-bin/stable_token: answer without access_token")
	}
	return ans, err
}

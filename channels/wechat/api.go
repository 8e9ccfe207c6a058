package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// maxAPIAnswer bounds a WeChat API answer body (1 MiB).
const maxAPIAnswer = 1 << 20

// apiClient calls the WeChat API at base (Config.APIBaseURL). The access
// token travels in the query and never appears in errors or logs.
type apiClient struct {
	base    string
	http    *http.Client
	timeout time.Duration
}

// postJSON POSTs body as JSON (HTML characters unescaped, as WeChat shows
// them literally) to path with the query and decodes the answer into out.
func (c *apiClient) postJSON(ctx context.Context, path string, query url.Values, body, out any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return fmt.Errorf("wechat api %s: encode: %w", path, err)
	}
	return c.post(ctx, path, query, "application/json; charset=utf-8", buf.Bytes(), out)
}

// postFile POSTs one file as multipart/form-data field "media" ("Adding
// temporary assets": form-data with filename, filelength, content-type).
func (c *apiClient) postFile(ctx context.Context, path string, query url.Values, name string, data []byte, out any) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("media", name)
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return fmt.Errorf("wechat api %s: form: %w", path, err)
	}
	return c.post(ctx, path, query, mw.FormDataContentType(), buf.Bytes(), out)
}

// post sends one request and decodes a JSON answer: errcode ≠ 0 → *APIError.
func (c *apiClient) post(ctx context.Context, path string, query url.Values, contentType string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wechat api %s: %w", path, redactURLError(err))
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("wechat api %s: %w", path, redactURLError(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer))
	if err != nil {
		return fmt.Errorf("wechat api %s: read: %w", path, redactURLError(err))
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wechat api %s: http status %d", path, resp.StatusCode)
	}
	var st util.CommonError
	if err := json.Unmarshal(answer, &st); err != nil {
		return fmt.Errorf("wechat api %s: answer is not JSON: %w", path, err)
	}
	if st.ErrCode != 0 {
		return &APIError{API: path, Code: st.ErrCode, Msg: st.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return fmt.Errorf("wechat api %s: answer: %w", path, err)
		}
	}
	return nil
}

// withToken runs call with the account's access token. When WeChat
// rejects the token (40001, 40014, 42001) it refreshes the token once and
// runs call again.
func (acct *account) withToken(ctx context.Context, call func(token string) error) error {
	tok, err := acct.tokens.Token(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	var ae *APIError
	if !errors.As(err, &ae) || !tokenRejected(ae.Code) {
		return err
	}
	acct.tokens.log.Info("wechat access token rejected, refreshing", "errcode", ae.Code)
	if tok, err = acct.tokens.Refresh(ctx, tok); err != nil {
		return err
	}
	return call(tok)
}

// tokenQuery is the query of an authenticated API call.
func tokenQuery(token string, extra ...string) url.Values {
	q := url.Values{"access_token": {token}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

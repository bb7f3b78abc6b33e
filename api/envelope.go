package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/billkey/billkey"
)

// envelope is i'mport's reply shape: {code, message, response}.
type envelope struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

// writeJSON writes a reply in one piece with a Content-Length (a legacy
// client parses only the first chunk of the getToken reply).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"code":-1,"message":"encoding error","response":null}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeOK writes a success envelope.
func writeOK(w http.ResponseWriter, response any) {
	writeJSON(w, http.StatusOK, envelope{Code: 0, Response: response})
}

// errorStatus maps a domain error code to the HTTP status and the i'mport
// envelope code. This is the one place where that mapping lives.
func errorStatus(code string) (status, impCode int) {
	switch code {
	case billkey.EINVALID:
		return http.StatusBadRequest, -1
	case billkey.EUNAUTHORIZED:
		return http.StatusUnauthorized, -1
	case billkey.ENOTFOUND:
		return http.StatusNotFound, -1
	case billkey.EREJECTED:
		return http.StatusOK, 1
	case billkey.EPG, billkey.EUNCERTAIN:
		return http.StatusOK, -1
	case billkey.ECONFLICT:
		return http.StatusConflict, 1
	case billkey.EMISMATCH:
		return http.StatusUnprocessableEntity, 1
	}
	return http.StatusInternalServerError, -1
}

// writeError writes err as an i'mport envelope. Internal errors are logged
// with their cause and shown only as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := billkey.ErrorCode(err)
	status, impCode := errorStatus(code)
	msg := billkey.ErrorMessage(err)
	if code == billkey.EINTERNAL {
		s.Logger.Error("internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `iamport realm="billkey"`)
	}
	writeJSON(w, status, envelope{Code: impCode, Message: &msg})
}

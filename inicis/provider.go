package inicis

import "github.com/billkey/billkey"

// Provider returns the KG INICIS provider of the connector, under the names
// html5_inicis (canonical) and inicis: the connector for both the server
// calls and the payment window, and the credentials check.
func (c *Connector) Provider() *billkey.PGProvider {
	return &billkey.PGProvider{
		Name:             billkey.ProviderHTML5Inicis,
		Aliases:          []string{billkey.ProviderInicis},
		PG:               c,
		Window:           c,
		CheckCredentials: CheckCredentials,
	}
}

// Factory is the INICIS entry of billkey serve's PG registry: test
// channels talk to the simulator at env.SimulatorURL, live channels to
// INICIS's production hosts.
func Factory(env billkey.PGEnv) (*billkey.PGProvider, error) {
	logger := env.Logger
	if logger != nil {
		logger = logger.With("component", "inicis")
	}
	c := New(Config{
		Test:       SimulatorEndpoints(env.SimulatorURL),
		Live:       ProductionEndpoints(),
		Timeout:    env.Timeout,
		HTTPClient: env.HTTPClient,
		Logger:     logger,
	})
	return c.Provider(), nil
}

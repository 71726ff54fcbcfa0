package verk

import "net/url"

func parseQuery(q string) (url.Values, error) { return url.ParseQuery(q) }

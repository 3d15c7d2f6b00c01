# The two commands a new user needs: `make demo` and `make test`.
SWIFT ?= swift
VEM := .build/debug/vem

.PHONY: all build test demo deps clean

all: build

deps:
	scripts/install-deps

build: deps
	$(SWIFT) build

test: build
	$(SWIFT) test

demo: build
	$(VEM) demo

clean:
	rm -rf .build

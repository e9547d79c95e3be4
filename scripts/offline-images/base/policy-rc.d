#!/bin/sh
# No service starts while packages are installed in an image build (as in Debian's images).
exit 101

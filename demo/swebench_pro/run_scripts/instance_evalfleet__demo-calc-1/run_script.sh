#!/bin/bash
# $1: the selected test files, comma-separated (SWE-bench Pro's convention)
set -u
files=$(echo "$1" | tr ',' ' ')
python3 -m unittest -v ${files//.py/}

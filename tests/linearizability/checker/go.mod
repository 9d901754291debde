module flotilla.dev/tests/linearizability/checker

go 1.23

require github.com/anishathalye/porcupine v1.3.1

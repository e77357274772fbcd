// scores tests: being written

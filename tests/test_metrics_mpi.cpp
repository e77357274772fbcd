// metrics tests: being written
